"""URLs of online payments: the resident's pay and return pages, the provider's webhook and the
local test provider's checkout page (``views_payments``)."""

from django.urls import path

from bieb.subscriptions import views_payments

app_name = "payments"
urlpatterns = [
    path("mijn/betalen", views_payments.pay_open, name="pay_open"),
    path("mijn/betalen/<int:payment_id>", views_payments.result, name="result"),
    path("mijn/facturen/<int:invoice_id>/betalen", views_payments.pay_invoice, name="pay_invoice"),
    path("betalen/webhook/<slug:provider>", views_payments.webhook, name="webhook"),
    path("betalen/test/<str:provider_id>", views_payments.local_checkout, name="test_checkout"),
]
