import os

from tenx_attribution import Tenx

tenx = Tenx(os.environ["TENX_URL"], os.environ["TENX_TOKEN"], handle="acme")

sale = tenx.conversions.record({
    "ctx": os.environ["TENX_CTX"],  # the ?ctx= of the redirect, kept with the visitor's cart
    "idempotencyKey": "order-789",  # your order id: retries and replays count it once
    "eventType": "purchase",
    "value": 24.99,
    "currency": "USD",
})
print(sale.conversion_id, "already recorded" if sale.deduped else "recorded")
