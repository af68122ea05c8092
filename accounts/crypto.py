"""Field encryption at rest with MultiFernet keys from FIELD_ENCRYPTION_KEYS.

The first key encrypts; every key decrypts, so a new key can be put first and old rows
re-encrypted (`manage.py rotate_field_keys`). Raw SQL reads return ciphertext.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    if settings.SECRET_KEY in keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must not reuse SECRET_KEY.")
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_str(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt_str(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored value cannot be decrypted with FIELD_ENCRYPTION_KEYS."
        ) from exc


def rotate_str(token: str) -> str:
    return fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token. Not searchable or orderable in SQL, by design."""

    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        return value if value is None or value == "" else decrypt_str(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value if value is None or value == "" else encrypt_str(str(value))
