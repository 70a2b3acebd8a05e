"""The learner fixture shared by the engine tests of the learner's path."""

import pytest

from engine import accounts
from engine.store.db import transaction
from engine.store.models import User


@pytest.fixture
def learner(store):
    with transaction(store.sessions) as s:
        user = User(username="sophea", password_hash=accounts.hash_password("x" * 8), full_name_km="សុខ សុភា")
        s.add(user)
        s.flush()
        return user.id
