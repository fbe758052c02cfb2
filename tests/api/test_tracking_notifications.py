"""Citizen notifications of the tracking service: the e-mail (real SMTP into the stack's
sink) and the SMS (the gateway simulator) with the right Vietnamese text, the in-app
inbox with read/unread, the SMS opt-out that legally required notices ignore, retries
when the SMS gateway fails, and the dossier service's contact endpoint the notifier
reads (docs/services/tracking.md, "Notifications")."""
from __future__ import annotations

import time

from dossier_support import machine_client_token
from motcua_api import assert_problem
from tracking_delivery_support import (API, act, contacts, filed_with, mails_to, sms_fail_next,
                                       sms_to, tracking_sql, wait_for)


def test_received_and_supplement_requested_reach_the_citizen(world):
    who = contacts()
    api, officer, citizen = world.api, world.officer, world.citizen()
    d = filed_with(world, world.procedure(), who)
    d = act(api, officer, d, 'receive').doc
    code = d['code']
    appointment = d['dates']['appointment_at'][:10]
    day = f'{appointment[8:10]}/{appointment[5:7]}/{appointment[0:4]}'

    mail = wait_for('receipt e-mail', lambda: mails_to(who['email']))[0]
    assert str(mail['Subject']) == f'Hồ sơ {code} đã được tiếp nhận'
    text = mail.get_content()
    assert f'Hồ sơ {code} của Ông/Bà đã được tiếp nhận' in text
    assert f'Ngày hẹn trả kết quả: {day}' in text
    sms = wait_for('receipt SMS', lambda: sms_to(who['phone']))[0]
    assert sms['text'] == f'Ho so {code} da duoc tiep nhan. Hen tra ket qua ngay {day}.'

    d = act(api, officer, d, 'request_supplement',
            {'missing_items': ['Bản sao giấy khai sinh', 'Văn bản ủy quyền'],
             'deadline_working_days': 5}).doc
    mail = wait_for('supplement e-mail', lambda: mails_to(who['email'])[1:])[0]
    assert str(mail['Subject']) == f'Hồ sơ {code} cần bổ sung'
    text = mail.get_content()
    assert 'Bản sao giấy khai sinh; Văn bản ủy quyền' in text
    due = d['dates']['supplement_due_at']
    assert f'Hạn bổ sung: {due[8:10]}/{due[5:7]}/{due[0:4]}.' in text
    wait_for('supplement SMS', lambda: len(sms_to(who['phone'])) >= 2)

    # Exactly one e-mail and one SMS per event.
    time.sleep(1.5)
    assert len(mails_to(who['email'])) == 2
    assert len(sms_to(who['phone'])) == 2

    # The inbox: both notices, newest first, unread until read.
    def inbox(**params):
        r = api.get(f'{API}/tracking/notifications', token=citizen, params=params, expect=200)
        return [n for n in r.doc['items'] if n['dossier_code'] == code]
    items = wait_for('inbox notices', lambda: len(inbox()) == 2 and inbox())
    assert [n['kind'] for n in items] == ['supplement_requested', 'received']
    assert all(not n['read'] and n['read_at'] is None and n['legally_required'] for n in items)
    assert items[0]['body'] == text.strip()
    read = api.post(f'{API}/tracking/notifications/{items[1]["id"]}/read', token=citizen,
                    expect=200).doc
    assert read['read'] is True and read['read_at'] is not None
    again = api.post(f'{API}/tracking/notifications/{items[1]["id"]}/read', token=citizen,
                     expect=200).doc
    assert again['read_at'] == read['read_at']
    unread = inbox(unread='true')
    assert [n['kind'] for n in unread] == ['supplement_requested']

    # Nobody else reads or marks them.
    other = world.citizen(1)
    r = api.post(f'{API}/tracking/notifications/{items[0]["id"]}/read', token=other, expect=404)
    assert_problem(r, 404)
    assert not [n for n in api.get(f'{API}/tracking/notifications', token=other, expect=200).doc['items']
                if n['dossier_code'] == code]
    api.get(f'{API}/tracking/notifications', expect=401)
    r = api.get(f'{API}/tracking/notifications', token=citizen, params={'unread': 'maybe'}, expect=400)
    assert_problem(r, 400)


def test_sms_opt_out_spares_only_notices_not_legally_required(world):
    who = contacts()
    api, officer = world.api, world.officer
    citizen = world.citizen(1)
    token_prefs = api.put(f'{API}/tracking/notification-preferences', token=citizen,
                          json={'sms_opt_out': True}, expect=200).doc
    assert token_prefs == {'sms_opt_out': True}
    assert api.get(f'{API}/tracking/notification-preferences', token=citizen,
                   expect=200).doc == {'sms_opt_out': True}
    r = api.put(f'{API}/tracking/notification-preferences', token=citizen, json={'sms_opt_out': 'yes'},
                expect=422)
    assert_problem(r, 422)
    try:
        from dossier_support import create, submit, upload
        d = create(api, citizen, world.procedure(), world.agency, applicant=who).doc
        upload(api, citizen, d, 'TK')
        d = api.get(f'{API}/dossiers/{d["id"]}', token=citizen, expect=200).doc
        d = submit(api, citizen, d).doc
        d = act(api, officer, d, 'receive').doc
        d = act(api, officer, d, 'request_payment', {'amount': 1500000}).doc
        mails = wait_for('payment e-mail', lambda: len(mails_to(who['email'])) >= 2 and mails_to(who['email']))
        assert '1.500.000 đồng' in mails[1].get_content()
        time.sleep(2)
        texts = [m['text'] for m in sms_to(who['phone'])]
        # The receipt (legally required) went by SMS; the payment request did not.
        assert len(texts) == 1 and 'da duoc tiep nhan' in texts[0]
        state = tracking_sql(
            "SELECT d.state || ':' || coalesce(d.last_error, '') FROM notification_deliveries d "
            "JOIN notifications n ON n.id = d.notification_id "
            f"WHERE n.dossier_code = '{d['code']}' AND n.kind = 'payment_requested' AND d.channel = 'sms'")
        assert state == 'skipped:the citizen opted out of SMS'
    finally:
        api.put(f'{API}/tracking/notification-preferences', token=citizen, json={'sms_opt_out': False},
                expect=200)


def test_sms_is_retried_when_the_gateway_fails(world):
    who = contacts()
    api, officer = world.api, world.officer
    d = filed_with(world, world.procedure(), who)
    sms_fail_next(2)
    d = act(api, officer, d, 'receive').doc
    sms = wait_for('SMS after two failures', lambda: sms_to(who['phone']), seconds=40)
    assert len(sms) == 1 and d['code'] in sms[0]['text']
    row = tracking_sql(
        "SELECT d.state || ':' || d.attempts FROM notification_deliveries d JOIN notifications n "
        f"ON n.id = d.notification_id WHERE n.dossier_code = '{d['code']}' AND d.channel = 'sms'")
    assert row == 'sent:3'


def test_contacts_are_read_only_by_the_platform_notifier(world):
    who = contacts()
    api = world.api
    d = filed_with(world, world.procedure(), who)
    notifier = machine_client_token(world, ['dossier:contacts'])
    got = api.get(f'{API}/dossiers/{d["id"]}/contacts', token=notifier, expect=200)
    assert got.doc == {'dossier_id': d['id'], 'email': who['email'], 'phone': who['phone'],
                       'language': 'vi'}
    assert got.headers['Cache-Control'] == 'private, no-store'
    for token in (world.citizen(), world.officer,
                  machine_client_token(world, ['dossier:contacts'], agency=world.agency),
                  machine_client_token(world, ['dossier:events'])):
        assert_problem(api.get(f'{API}/dossiers/{d["id"]}/contacts', token=token, expect=403), 403)
