// tests/spec/client/client.ts: what a frontend does with a client generated from the
// public API document (/openapi.json), typechecked with `tsc --strict` by
// tests/spec/client-check. Never run: if it compiles, the contract can be used from a
// typed language. Each `@ts-expect-error` is a mistake the contract must catch (tsc
// fails when the line below it is NOT an error), so the types are not just `any`.
import createClient from 'openapi-fetch';
import type { components, paths } from './gen/public';

type Schemas = components['schemas'];

const api = createClient<paths>({ baseUrl: 'https://dichvucong.example.gov.vn' });

export async function fileAndFollow(file: File, scan: Blob): Promise<void> {
  // Find the procedure.
  const found = await api.GET('/api/v1/procedures', {
    params: { query: { q: 'lý lịch tư pháp', limit: 5 } },
  });
  if (found.error) throw new Error(found.error.code);
  const procedure = found.data.items[0];
  const procedureCode: string = procedure.code;

  // Its form: a real schema, not Record<string, never>.
  const detail = await api.GET('/api/v1/procedures/{code}', {
    params: { path: { code: procedureCode } },
  });
  if (detail.error) throw new Error(detail.error.code);
  const form = detail.data.cases[0].form_schema;
  const fieldNames: string[] = form?.properties ? Object.keys(form.properties) : [];
  const required: string[] = form?.required ?? [];
  const firstType = form?.properties?.[fieldNames[0]]?.type;
  console.log(fieldNames, required, firstType);

  // Sign in (password grant, form-encoded as OAuth 2 wants it).
  const signedIn = await api.POST('/api/v1/auth/token', {
    body: { grant_type: 'password', username: '038090012345', password: 'mat-khau-du-dai' },
    bodySerializer: (body) => new URLSearchParams(body as Record<string, string>),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  if (signedIn.error) throw new Error(signedIn.error.code);
  const authorization = `Bearer ${signedIn.data.access_token}`;

  // Who am I: every documented member is there, null when empty.
  const me = await api.GET('/api/v1/accounts/me', { headers: { Authorization: authorization } });
  if (me.error) throw new Error(me.error.code);
  const phone: string | null = me.data.phone;
  console.log(phone);

  // File a dossier: form_data is an open object (its members come from the form schema).
  const formData: Schemas['FormData'] = { purpose: 'Bổ sung hồ sơ xin việc', copies: 1 };
  const created = await api.POST('/api/v1/dossiers', {
    headers: { Authorization: authorization, 'Idempotency-Key': crypto.randomUUID() },
    body: {
      procedure_code: procedureCode,
      channel: 'online',
      agency_code: '000.00.06.H56',
      applicant: { type: 'citizen', full_name: 'Nguyễn Văn An', personal_id: '038090012345' },
      form_data: formData,
      delivery: { method: 'online' },
    },
  });
  if (created.error) throw new Error(created.error.code);
  const dossier = created.data;
  const id = dossier.id;
  const code: string | null = dossier.code;
  console.log(code);

  // Upload files: a File (with its own type) and a Blob of unknown type, as raw bodies.
  const slot = { path: { id, slot: 'TK' }, query: { file_name: file.name } };
  const uploaded = await api.PUT('/api/v1/dossiers/{id}/documents/{slot}', {
    params: slot,
    headers: { Authorization: authorization, 'Content-Type': file.type },
    body: file,
    bodySerializer: (body) => body,
  });
  if (uploaded.error) throw new Error(uploaded.error.code);
  const sha256: string = uploaded.data.sha256;
  console.log(sha256);
  await api.PUT('/api/v1/dossiers/{id}/documents/{slot}', {
    params: { path: { id, slot: 'extra-1' }, query: { file_name: 'scan.jpg' } },
    headers: { Authorization: authorization, 'Content-Type': 'application/octet-stream' },
    body: scan,
    bodySerializer: (body) => body,
  });
  await api.PUT('/api/v1/dossiers/{id}/documents/{slot}', {
    params: slot,
    // @ts-expect-error an upload is the file's bytes, not a JSON document
    body: { content: 'JVBERi0xLjQK' },
  });

  // Submit; a refused submit names the missing slot or form field.
  const submitted = await api.POST('/api/v1/dossiers/{id}/submit', {
    params: { path: { id }, header: { 'If-Match': `"r${dossier.revision}"` } },
    headers: { Authorization: authorization },
    body: {},
  });
  if (submitted.error) {
    const pointers = (submitted.error.errors ?? []).flatMap((e) => ('pointer' in e ? [e.pointer] : []));
    throw new Error(`${submitted.error.code}: ${pointers.join(', ')}`);
  }

  // Staff actions: each has its own body.
  const staff = { Authorization: 'Bearer staff-token' };
  const current = { path: { id }, header: { 'If-Match': `"r${submitted.data.revision}"` } };
  await api.POST('/api/v1/dossiers/{id}/actions/receive', { params: current, headers: staff, body: {} });
  await api.POST('/api/v1/dossiers/{id}/actions/request_supplement', {
    params: current,
    headers: staff,
    body: { missing_items: ['Bản sao Căn cước công dân'], deadline_working_days: 5 },
  });
  await api.POST('/api/v1/dossiers/{id}/actions/refuse', {
    params: current,
    headers: staff,
    // @ts-expect-error refuse needs its reasons
    body: { note: 'thiếu lý do' },
  });
  // @ts-expect-error receive takes no amount (that is request_payment)
  const receiveWithAmount: Schemas['ReceiveRequest'] = { amount: 200000 };
  console.log(receiveWithAmount);
  const approve: Schemas['ApproveRequest'] = { result: { summary: 'Cấp Phiếu lý lịch tư pháp số 1' } };
  await api.POST('/api/v1/dossiers/{id}/actions/approve', { params: current, headers: staff, body: approve });

  // The citizen's list, and the trail of one dossier.
  const mine = await api.GET('/api/v1/dossiers', {
    params: { query: { limit: 20 } },
    headers: { Authorization: authorization },
  });
  if (mine.error) throw new Error(mine.error.code);
  const next: string | null = mine.data.next_cursor;
  for (const item of mine.data.items) console.log(item.status_name, next);
  const trail = await api.GET('/api/v1/dossiers/{id}/history', {
    params: { path: { id } },
    headers: { Authorization: authorization },
  });
  if (trail.error) throw new Error(trail.error.code);
  for (const entry of trail.data.items) {
    const note: string | null = entry.note;
    const reasons: string[] | null = entry.reasons;
    console.log(entry.action, note, reasons);
  }
}
