"""The payment service, then the dossier service, killed with SIGKILL during a burst of
payments.

Dossiers waiting for their fee are made beforehand: pay after (status 6, paid through
VNPay) and pay first (status 11, paid through the national platform), each with its
pending payment. Then payers pay at the simulators on several threads (the simulators
deliver the IPN / confirm callback through the gateway, retried every second as the test
stack sets them, and the sweeper asks the gateway about any payment whose callbacks all
failed). A third of the way through, the payment service is killed with `kill -9` and
started again as deploy/local starts it; two thirds of the way through, the dossier
service the same (confirmations are then in flight from the payment service's outbox).

Afterwards every payment is paid and:
  - its dossier moved on exactly once: pay after back in processing (4), pay first
    submitted (1), with exactly one confirmation row in the dossier's history naming the
    payment (read with psql as the dossier service's role);
  - the payment feed holds exactly one `payment.payment.succeeded` for it;
  - its confirmation in the payment service's outbox is done.
None lost, none doubled.

Needs the local test stack (tests/run): MOTCUA_TEST_LOCAL_DIR, the services' URLs and
pid files, the simulators, psql. Skipped otherwise.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from dossier_support import awaiting_submission_payment, dossier_in, pay_first_procedure
from service_process import ServiceProcess
from stack_db import psql_as
from test_payment_dossier import wait_dossier
from test_payment_ipn import create_payment, payment_events
from test_payment_journey import merchants, pay_at_simulator, wait_state  # noqa: F401 (fixture)

N_AFTER = 12     # pay-after dossiers (VNPay)
N_FIRST = 6      # pay-first dossiers (national platform)
WORKERS = 3
PACE = 0.4       # seconds between a payer thread's payments: the burst outlasts the first kill
SETTLE_TIMEOUT = 120  # seconds: callbacks retried each second, the sweeper after the 30 s expiry
CONFIRMATIONS = ('confirm_payment', 'confirm_submission_payment')


def test_kill_9_payment_then_dossier_during_payments(api, world, admin, merchants):  # noqa: F811
    payment_proc = ServiceProcess('payment')
    dossier_proc = ServiceProcess('dossier')
    after = [dossier_in(world, world.procedure(mandatory=()), 6) for _ in range(N_AFTER)]
    first_code = pay_first_procedure(world)
    first = [awaiting_submission_payment(world, first_code) for _ in range(N_FIRST)]
    assert all(d['status'] == 11 for d in first)
    payments = ([(d, create_payment(api, world, d, 'vnpay'), 4) for d in after]
                + [(d, create_payment(api, world, d, 'national_platform'), 1) for d in first])
    # interleave the two kinds so both are in flight at each kill
    payments = payments[::2] + payments[1::2]

    paid_at_gateway = 0
    lock = threading.Lock()

    def pay(item) -> int:
        nonlocal paid_at_gateway
        time.sleep(PACE)
        status = pay_at_simulator(item[1], 'success').status_code
        with lock:
            paid_at_gateway += 1
        return status

    def wait_paid(n: int) -> None:
        deadline = time.monotonic() + 60
        while paid_at_gateway < n and time.monotonic() < deadline:
            time.sleep(0.01)

    total = len(payments)
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = [pool.submit(pay, item) for item in payments]
        wait_paid(total // 3)
        payment_proc.kill()
        killed_payment_at = paid_at_gateway
        payment_proc.start()
        wait_paid(2 * total // 3)
        dossier_proc.kill()
        killed_dossier_at = paid_at_gateway
        dossier_proc.start()
        statuses = [f.result() for f in futures]
    assert all(s in (200, 302) for s in statuses), statuses
    assert killed_payment_at < total, 'the payment service was killed after the burst'
    # (the dossier service's kill may come after the last payer: the confirmations of the
    # payments made around the first kill are still being sent from the outbox then)
    assert killed_dossier_at >= 2 * total // 3

    for dossier, payment, moved_to in payments:
        doc = wait_state(api, world, payment['id'], {'paid', 'failed', 'cancelled', 'expired'},
                         timeout=SETTLE_TIMEOUT)
        assert doc['state'] == 'paid', doc
        d = wait_dossier(api, world, dossier['id'], moved_to, timeout=SETTLE_TIMEOUT)
        assert d['status'] == moved_to, (payment['id'], d['status'])

    # exactly one confirmation per dossier in its history, naming its payment
    ids = ','.join(f"'{d['id']}'" for d, _, _ in payments)
    rows = psql_as('dossier', "SELECT dossier_id || '|' || action || '|' || coalesce(details->>'payment_id', '')"
                              f" FROM dossier.dossier_history WHERE dossier_id IN ({ids})"
                              f" AND action IN ('{CONFIRMATIONS[0]}', '{CONFIRMATIONS[1]}')")
    confirmed = sorted(tuple(line.split('|')) for line in rows.splitlines())
    expected = sorted((d['id'], 'confirm_payment' if moved_to == 4 else 'confirm_submission_payment',
                       p['id']) for d, p, moved_to in payments)
    assert confirmed == expected

    # exactly one payment.payment.succeeded per payment in the feed
    for _, payment, _ in payments:
        events = [e for e in payment_events(api, admin, payment['id'])
                  if e['type'] == 'payment.payment.succeeded']
        assert len(events) == 1, (payment['id'], events)

    # and the payment service's outbox of confirmations is drained
    pids = ','.join(f"'{p['id']}'" for _, p, _ in payments)
    deadline = time.monotonic() + 30
    while True:
        left = psql_as('payment', f'SELECT count(*) FROM payment.dossier_confirmations'
                                  f' WHERE payment_id IN ({pids}) AND done_at IS NULL')
        if left == '0' or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert left == '0'
    done = psql_as('payment', f'SELECT count(*) FROM payment.dossier_confirmations WHERE payment_id IN ({pids})')
    assert int(done) == len(payments)
