import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import Brand, Customer
from ledger.models import Product

PASSWORD = "a-long-test-password-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def persist_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    user = factory.SubFactory(UserFactory)


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    brand = factory.SubFactory(BrandFactory)
    external_id = factory.Sequence(lambda n: f"sku-{n}")
    name = factory.Sequence(lambda n: f"Product {n}")
    category = "General"


class CustomerBrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounts.CustomerBrand"

    customer = factory.SubFactory(CustomerFactory)
    brand = factory.SubFactory(BrandFactory)
    external_ref = factory.Sequence(lambda n: f"ext-customer-{n}")


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ledger.Address"

    customer = factory.SubFactory(CustomerFactory)
    label = "Home"
    recipient = "Ada Lovelace"
    line1 = factory.Sequence(lambda n: f"{n} Analytical Street")
    city = "London"
    postal_code = "N1 9GU"
    country = "GB"


class PaymentMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ledger.PaymentMethod"

    customer = factory.SubFactory(CustomerFactory)
    processor_token = factory.Sequence(lambda n: f"tok_test_{n:08d}")
    card_brand = "visa"
    last4 = "4242"
    exp_month = 12
    exp_year = 2030


class PersonalFactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ledger.PersonalFact"

    customer = factory.SubFactory(CustomerFactory)
    field = "legal_name"
    value = "Ada Lovelace"


class PartnerAttributeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ledger.PartnerAttribute"

    customer = factory.SubFactory(CustomerFactory)
    brand = factory.SubFactory(BrandFactory)
    source = "third_party"
    partner_name = "Acme Data Co"
    name = "household income band"
    value = "D"
    purpose = "personalization"
    obtained_at = factory.LazyFunction(timezone.now)
    external_id = factory.LazyAttribute(lambda o: f"{o.partner_name}/{o.name}")


class ContactPreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ledger.ContactPreference"

    customer = factory.SubFactory(CustomerFactory)
    channel = "email"


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ledger.Order"

    customer = factory.SubFactory(CustomerFactory)
    brand = factory.SubFactory(BrandFactory)
    source = "observed"
    placed_at = factory.LazyFunction(timezone.now)


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ledger.OrderLine"

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory, brand=factory.SelfAttribute("..order.brand"))
    quantity = 1
    unit_price = "10.00"


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ledger.Event"

    customer = factory.SubFactory(CustomerFactory)
    brand = factory.SubFactory(BrandFactory)
    source = "observed"
    kind = "view"
    product = factory.SubFactory(ProductFactory, brand=factory.SelfAttribute("..brand"))
    occurred_at = factory.LazyFunction(timezone.now)


class DeletionReceiptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "transparency.DeletionReceipt"

    customer = factory.SubFactory(CustomerFactory)
    scope = "point"
    kinds = factory.LazyFunction(lambda: {"event": 1})
    requested_at = factory.LazyFunction(timezone.now)
    completed_at = factory.LazyFunction(timezone.now)


class DataRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "transparency.DataRequest"

    customer = factory.SubFactory(CustomerFactory)
    kind = "export"


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ledger.Message"

    customer = factory.SubFactory(CustomerFactory)
    brand = factory.SubFactory(BrandFactory)
    external_id = factory.Sequence(lambda n: f"msg-{n}")
    category = "service"
    subject = "Your order has shipped"
    body = "It is on its way."
    channel = "email"
    state = "sent"
    why_channel = "By email, as you chose for every brand."
    why_time = "Straight away: it is about your account (UTC time)."
