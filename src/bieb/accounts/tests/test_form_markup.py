import pytest


@pytest.mark.django_db
def test_register_fields_are_styled_and_link_help_and_errors(client):
    page = client.get("/registreren").content.decode()
    assert 'class="utrecht-textbox"' in page
    assert 'aria-describedby="guardian_email-help"' in page

    page = client.post("/registreren", {"email": "geen-e-mail"}).content.decode()
    assert 'aria-describedby="email-error email-help"' in page
