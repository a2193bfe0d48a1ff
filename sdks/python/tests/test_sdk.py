"""tenx_attribution against a real `tenx serve` (started by scripts/sdk_test.sh)."""

from __future__ import annotations

import asyncio
import base64
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import HANDLE, TENX_TOKEN, TENX_URL, DroppingProxy, Stub, follow_redirect, sign

from tenx_attribution import (
    AsyncTenx,
    RetryPolicy,
    Tenx,
    TenxError,
    TenxVersionError,
    WebhookVerificationError,
    api,
    major_of,
    verify_webhook,
)
from tenx_attribution._generated.api.commissions import create_manual_commission
from tenx_attribution._generated.api.health import health
from tenx_attribution._generated.api.webhooks import delete_webhook
from tenx_attribution._generated.models.manual_commission_request import ManualCommissionRequest

FAST = RetryPolicy(base_delay=0.02)
ROOT = Path(__file__).resolve().parent.parent  # sdks/python


@pytest.fixture(scope="module")
def tenx():
    with Tenx(TENX_URL, TENX_TOKEN, handle=HANDLE, retry=FAST) as client:
        link = client.links.upsert("launch", {"destinationUrl": "https://example.com/product"})
        assert link.slug == "launch"
        yield client


@pytest.fixture(scope="module")
def secret(tenx, receiver):
    sub = tenx.webhooks.create({"endpointUrl": receiver.url, "eventTypes": ["conversion.created"]})
    assert sub.secret.startswith("whsec_")
    return sub.secret


def test_link_redirect_conversion_and_replay(tenx):
    ctx = follow_redirect("launch")
    order = f"order-{uuid.uuid4()}"
    sale = {"ctx": ctx, "idempotencyKey": order, "eventType": "purchase", "value": 24.99, "currency": "USD"}
    first = tenx.conversions.record(sale)
    assert first.deduped is False
    assert first.conversion_id.startswith("cnv_")
    replay = tenx.conversions.record(sale)
    assert replay.deduped is True
    assert replay.conversion_id == first.conversion_id
    assert tenx.conversions.get(first.conversion_id).conversion_id == first.conversion_id


def test_a_key_is_generated_when_none_is_given(tenx):
    assert tenx.conversions.record({"ctx": follow_redirect("launch"), "eventType": "signup"}).deduped is False


def test_real_delivery_verifies_stale_and_wrong_refused(tenx, receiver, secret):
    sale = tenx.conversions.record({"ctx": follow_redirect("launch"), "eventType": "purchase", "value": 5, "currency": "EUR"})
    headers, body = receiver.wait_for(sale.conversion_id)
    event = verify_webhook(body, headers, secret)
    assert event["type"] == "conversion.created"
    assert event["handle"] == HANDLE
    assert event["id"] == headers["webhook-id"]

    both = {**headers, "webhook-signature": f"v1,{base64.b64encode(bytes(32)).decode()} {headers['webhook-signature']}"}
    assert verify_webhook(body, both, secret)["id"] == event["id"]

    msg_id = headers["webhook-id"]
    stale = int(time.time()) - 301
    with pytest.raises(WebhookVerificationError, match=r"^webhook timestamp too old \(more than 300 seconds\)$"):
        verify_webhook(body, {"webhook-id": msg_id, "webhook-timestamp": str(stale), "webhook-signature": sign(secret, msg_id, stale, body)}, secret)
    future = int(time.time()) + 301
    with pytest.raises(WebhookVerificationError, match=r"^webhook timestamp too new \(more than 300 seconds ahead\)$"):
        verify_webhook(body, {"webhook-id": msg_id, "webhook-timestamp": str(future), "webhook-signature": sign(secret, msg_id, future, body)}, secret)
    wrong = "whsec_" + base64.b64encode(bytes([7]) * 32).decode()
    with pytest.raises(WebhookVerificationError, match=r"^no signature in webhook-signature matches the payload$"):
        verify_webhook(body, headers, wrong)
    with pytest.raises(WebhookVerificationError, match=r"^no signature in webhook-signature matches the payload$"):
        verify_webhook(body.replace(b'"EUR"', b'"USD"'), headers, secret)
    with pytest.raises(WebhookVerificationError, match=r"^missing webhook-id, webhook-timestamp or webhook-signature header$"):
        verify_webhook(body, {"webhook-id": msg_id}, secret)


def test_partner_balance(tenx):
    partner = tenx.partners.create({"name": f"Ada {uuid.uuid4().hex[:8]}"})
    body = ManualCommissionRequest.from_dict(
        {"partnerId": partner.partner_id, "amount": "12.50", "currency": "EUR", "reason": "launch bonus"}
    )
    tenx.call(create_manual_commission, handle=HANDLE, body=body)
    balances = tenx.partners.balances(partner.partner_id)
    assert len(balances.items) == 1
    assert balances.items[0].approved == "12.50"
    assert balances.items[0].currency == "EUR"


def test_pagination(tenx):
    for i in range(5):
        tenx.links.upsert(f"page-{i}", {"destinationUrl": f"https://example.com/{i}"})
    slugs = [link.slug for link in tenx.links.list(limit=2)]
    assert {f"page-{i}" for i in range(5)} <= set(slugs)
    assert len(set(slugs)) == len(slugs)


def test_csv_export_streams(tenx):
    csv = "".join(tenx.analytics.export_csv())
    assert csv.splitlines()[0].startswith("campaignId,status,clicks,")


def test_api_error_is_tenx_error(tenx):
    with pytest.raises(TenxError) as caught:
        tenx.links.get("no-such-link")
    e = caught.value
    assert (e.code, e.status) == ("not_found", 404)
    assert e.request_id and e.request_id.startswith("req_")
    assert e.requestId == e.request_id and e.message
    with pytest.raises(TenxError) as caught:
        tenx.conversions.record({"ctx": "not-a-ctx", "eventType": "purchase"})
    assert (caught.value.code, caught.value.status) == ("invalid_ctx", 400)


def test_lost_answer_retried_with_the_same_key_answers_the_same_conversion(tenx):
    proxy = DroppingProxy()
    try:
        with Tenx(proxy.url, TENX_TOKEN, handle=HANDLE, retry=FAST) as via_proxy:
            ctx = follow_redirect("launch")
            sale = {"ctx": ctx, "idempotencyKey": f"order-{uuid.uuid4()}", "eventType": "purchase", "value": 10, "currency": "USD"}
            answer = via_proxy.conversions.record(sale)
            assert proxy.dropped == 1
            assert answer.deduped is True, "the first try was accepted by the server"
            assert tenx.conversions.record(sale).conversion_id == answer.conversion_id
    finally:
        proxy.close()


def test_retries_only_keyed_requests():
    stub = Stub("0.1.0", 503, {"retry-after": "0"})
    try:
        with Tenx(stub.url, "t", handle=HANDLE, retry=RetryPolicy(max_attempts=3, base_delay=0.001)) as client:
            with pytest.raises(TenxError) as caught:
                client.conversions.record({"ctx": "x", "eventType": "purchase"})
            assert (caught.value.code, caught.value.status) == ("unavailable", 503)
            assert stub.hits == 3
            with pytest.raises(TenxError) as caught:
                client.links.get("launch")
            assert caught.value.request_id == "req_stub"
            assert stub.hits == 4
    finally:
        stub.close()


def test_another_major_version_is_refused():
    stub = Stub("1.0.0")
    try:
        with Tenx(stub.url) as client, pytest.raises(TenxVersionError) as caught:
            client.call(health)
        assert caught.value.code == "api_version_mismatch"
        assert "the server speaks 10x API 1.0.0" in str(caught.value)
        assert "the major versions differ (1 and 0)" in str(caught.value)
        assert stub.hits == 1
    finally:
        stub.close()
    minor = Stub("0.2.0")
    try:
        with Tenx(minor.url) as client:
            assert client.call(health).status == "ok"
    finally:
        minor.close()
    assert major_of("0.9.1") == 0 and major_of("2.0.0-rc.1") == 2


def test_async_client(tenx):
    async def main():
        async with AsyncTenx(TENX_URL, TENX_TOKEN, handle=HANDLE, retry=FAST) as client:
            sale = {"ctx": follow_redirect("launch"), "idempotencyKey": f"order-{uuid.uuid4()}", "eventType": "purchase"}
            first = await client.record_conversion(sale)
            again = await client.record_conversion(sale)
            assert (first.deduped, again.deduped) == (False, True)
            assert again.conversion_id == first.conversion_id
            slugs = [link.slug async for link in client.paginate(api.links.list_links, handle=HANDLE, limit=2)]
            assert "launch" in slugs
            csv = "".join([chunk async for chunk in client.export_csv()])
            assert csv.startswith("campaignId,")
            with pytest.raises(TenxError) as caught:
                await client.call(api.links.get_link, handle=HANDLE, slug="no-such-link")
            assert caught.value.code == "not_found"

    asyncio.run(main())


def _run(example: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / example)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_quickstart_records_once():
    ctx = follow_redirect("launch")
    for expected in ("recorded", "already recorded"):
        proc = _run("quickstart.py", {"TENX_CTX": ctx})
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, out
        conversion_id, _, words = out.strip().partition(" ")
        assert conversion_id.startswith("cnv_") and words == expected, out


def test_webhook_quickstart_verifies_a_real_delivery(tenx):
    port = random.randint(20000, 40000)
    sub = tenx.webhooks.create({"endpointUrl": f"http://127.0.0.1:{port}/", "eventTypes": ["conversion.created"]})
    proc = _run("webhook.py", {"TENX_WEBHOOK_SECRET": sub.secret, "PORT": str(port)})
    try:
        time.sleep(0.5)
        tenx.conversions.record({"ctx": follow_redirect("launch"), "eventType": "purchase", "value": 1, "currency": "USD"})
        line = proc.stdout.readline()  # blocks until the receiver prints the verified event
        assert line.startswith("conversion.created "), line
    finally:
        proc.kill()
        proc.wait()
        tenx.call(delete_webhook, handle=HANDLE, subscription_id=sub.subscription_id)
