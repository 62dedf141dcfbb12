"""Fixtures and helpers shared by the API tests."""

import pytest


@pytest.fixture(autouse=True)
def _static_files_from_the_apps(settings):
    # WhiteNoise scans STATIC_ROOT whenever a test client builds its middleware:
    # slow, and racy while anything else runs collectstatic. Autorefresh looks
    # files up per request instead, from the apps' static folders.
    settings.WHITENOISE_AUTOREFRESH = True
    settings.WHITENOISE_USE_FINDERS = True
