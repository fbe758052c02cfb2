-- Citizen notifications (docs/services/tracking.md, "Notifications").
--
-- A notification is written by the projection in the feed consumer's
-- transaction (one per event, event_id UNIQUE), so a crash can neither lose
-- one nor make two for one event. Its deliveries (e-mail, SMS) are an outbox
-- the delivery workers drain. Contact details are never stored here: the
-- workers fetch them from the dossier service when they send.

-- Templates are data: one row per kind and language (agency_code ''), and
-- the rows an agency adds to word its own notices (agency_code = its code).
-- Placeholders: {{code}} {{procedure_code}} {{agency_code}} {{status_name}}
-- {{appointment_date}} {{supplement_deadline}} {{missing_items}} {{reasons}}
-- {{amount}} {{outcome}} (notify_rules.c).
CREATE TABLE notification_templates (
    kind                text        NOT NULL,
    lang                text        NOT NULL,
    agency_code         text        NOT NULL DEFAULT '',
    subject             text        NOT NULL,     -- e-mail subject, inbox title
    body                text        NOT NULL,     -- e-mail and inbox text
    sms                 text        NOT NULL,
    PRIMARY KEY (kind, agency_code, lang)
);

INSERT INTO notification_templates (kind, lang, subject, body, sms) VALUES
('received', 'vi', 'Hồ sơ {{code}} đã được tiếp nhận',
 'Hồ sơ {{code}} của Ông/Bà đã được tiếp nhận. Ngày hẹn trả kết quả: {{appointment_date}}.',
 'Ho so {{code}} da duoc tiep nhan. Hen tra ket qua ngay {{appointment_date}}.'),
('supplement_requested', 'vi', 'Hồ sơ {{code}} cần bổ sung',
 'Hồ sơ {{code}} cần bổ sung: {{missing_items}}. Hạn bổ sung: {{supplement_deadline}}.',
 'Ho so {{code}} can bo sung: {{missing_items}}. Han: {{supplement_deadline}}.'),
('payment_requested', 'vi', 'Hồ sơ {{code}}: đề nghị nộp phí, lệ phí',
 'Hồ sơ {{code}}: đề nghị Ông/Bà nộp phí, lệ phí {{amount}}.',
 'Ho so {{code}}: de nghi nop phi, le phi {{amount}}.'),
('result_ready', 'vi', 'Hồ sơ {{code}} đã có kết quả',
 'Hồ sơ {{code}} đã có kết quả. Mời Ông/Bà nhận kết quả theo hình thức đã đăng ký.',
 'Ho so {{code}} da co ket qua.'),
('apology', 'vi', 'Thư xin lỗi: hồ sơ {{code}} trả kết quả trễ hẹn',
 'Cơ quan giải quyết xin lỗi vì hồ sơ {{code}} chưa có kết quả đúng hẹn ({{reasons}}). Ngày hẹn mới: {{appointment_date}}.',
 'Xin loi: ho so {{code}} tre hen. Ngay hen moi: {{appointment_date}}.'),
('refused', 'vi', 'Hồ sơ {{code}} không được tiếp nhận',
 'Hồ sơ {{code}} không được tiếp nhận. Lý do: {{reasons}}.',
 'Ho so {{code}} khong duoc tiep nhan. Ly do: {{reasons}}.'),
('stopped', 'vi', 'Hồ sơ {{code}} đã dừng xử lý',
 'Hồ sơ {{code}} đã dừng xử lý. Lý do: {{reasons}}.',
 'Ho so {{code}} da dung xu ly. Ly do: {{reasons}}.'),
('received', 'en', 'Dossier {{code}} received',
 'Your dossier {{code}} was received. The result is due on {{appointment_date}}.',
 'Dossier {{code}} received. Result due {{appointment_date}}.'),
('supplement_requested', 'en', 'Dossier {{code}} needs more documents',
 'Dossier {{code}} needs: {{missing_items}}. Deadline: {{supplement_deadline}}.',
 'Dossier {{code}} needs: {{missing_items}}. Deadline {{supplement_deadline}}.'),
('payment_requested', 'en', 'Dossier {{code}}: fees to pay',
 'Dossier {{code}}: please pay the fees of {{amount}}.',
 'Dossier {{code}}: please pay {{amount}}.'),
('result_ready', 'en', 'Dossier {{code}}: the result is ready',
 'The result of dossier {{code}} is ready.', 'Dossier {{code}}: result ready.'),
('apology', 'en', 'Apology: dossier {{code}} is late',
 'We apologise: dossier {{code}} is late ({{reasons}}). New date: {{appointment_date}}.',
 'Apology: dossier {{code}} is late. New date {{appointment_date}}.'),
('refused', 'en', 'Dossier {{code}} not accepted',
 'Dossier {{code}} was not accepted. Reasons: {{reasons}}.',
 'Dossier {{code}} not accepted: {{reasons}}.'),
('stopped', 'en', 'Dossier {{code}} stopped',
 'Handling of dossier {{code}} stopped. Reasons: {{reasons}}.',
 'Dossier {{code}} stopped: {{reasons}}.');

-- The in-app inbox: one row per event that needs the citizen, and the
-- notices the service sends an owner of a webhook subscription it disabled.
CREATE TABLE notifications (
    id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id            uuid        UNIQUE,          -- NULL for the service's own notices
    dossier_id          uuid,
    dossier_code        text,
    recipient_sub       text,                        -- the inbox's owner; NULL: filed at the counter
    agency_code         text        NOT NULL,
    kind                text        NOT NULL,
    legally_required    boolean     NOT NULL,
    title               text        NOT NULL,
    body                text        NOT NULL,
    sms_text            text        NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    read_at             timestamptz
);
CREATE INDEX notifications_inbox ON notifications (recipient_sub, created_at DESC, id DESC)
    WHERE recipient_sub IS NOT NULL;

-- The outbox of messages to send, one row per notification and channel.
-- state: pending (not tried yet), failed (tried, retried at next_attempt_at),
-- sent, given_up (the schedule ran out), skipped (no address, or SMS opted
-- out for a notice that is not legally required).
CREATE TABLE notification_deliveries (
    notification_id     uuid        NOT NULL REFERENCES notifications ON DELETE CASCADE,
    channel             text        NOT NULL CHECK (channel IN ('email', 'sms')),
    state               text        NOT NULL DEFAULT 'pending'
                                    CHECK (state IN ('pending', 'failed', 'sent', 'given_up', 'skipped')),
    attempts            integer     NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    last_error          text,                        -- why the last attempt failed (no personal data)
    sent_at             timestamptz,
    PRIMARY KEY (notification_id, channel)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (next_attempt_at)
    WHERE state IN ('pending', 'failed');

-- Citizens who asked for no SMS (legally required notices still go).
CREATE TABLE sms_opt_outs (
    recipient_sub       text        PRIMARY KEY,
    opted_out_at        timestamptz NOT NULL DEFAULT now()
);
