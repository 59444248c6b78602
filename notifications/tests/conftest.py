import pytest


@pytest.fixture(autouse=True)
def absolute_links(settings):
    settings.IAP_BASE_URL = "http://testserver"
