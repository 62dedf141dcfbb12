"""Helpers for tests that post admin forms the way a browser does."""

from django.urls import reverse


def admin_url(model: str, page: str, *args) -> str:
    return reverse(f"admin:proposals_{model}_{page}", args=args)


def _value(value):
    if value is None or value is False:
        return None
    if value is True:
        return "on"
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def form_data(response) -> dict:
    """The data a browser would post back, unchanged, from an admin add or
    change page: the main form and every inline formset."""
    data = {}

    def add(form):
        for name in form.fields:
            value = _value(form[name].value())
            if value is not None:
                data[form.add_prefix(name)] = value

    add(response.context["adminform"].form)
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def form_errors(response) -> str:
    if response.context is None or "adminform" not in response.context:
        return f"{response.status_code}"
    errors = [response.context["adminform"].form.errors]
    for inline in response.context.get("inline_admin_formsets", []):
        errors.append(inline.formset.errors)
        errors.append(inline.formset.non_form_errors())
    return repr(errors)


def post_admin_change(client, model: str, pk, **changes):
    """Open the change page of ``model`` ``pk`` and post its form back with ``changes``."""
    url = admin_url(model, "change", pk)
    page = client.get(url)
    assert page.status_code == 200, url
    return client.post(url, {**form_data(page), **changes})


def field_errors(response, name: str) -> list[str]:
    """The main admin form's errors on field ``name`` (the page was re-shown)."""
    assert response.status_code == 200, f"expected the form again with errors, got {response.status_code}"
    return list(response.context["adminform"].form.errors.get(name, []))


def limited_client(django_user_model, client, *codenames, username="clerk"):
    """``client`` signed in as a staff user holding only ``codenames``."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user(username, password="pw-clerk-1", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return user
