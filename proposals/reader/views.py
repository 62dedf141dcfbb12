"""The source reader's admin view: the text with its marks, and a form that
attaches a selected passage as evidence to an existing proposal or to a new
one, in one write batch (all or nothing)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import slugify

from .. import services
from ..models import Evidence, Proposal, Source
from . import reader_marks, render_text


class AttachForm(forms.Form):
    """A passage of the source (offsets in code points, as the reader's
    script computed them from the selection) and the proposal it backs."""

    start = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    end = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    # strip=False: the quote must match the text at its offsets exactly.
    quote = forms.CharField(strip=False, widget=forms.Textarea(attrs={"rows": 4, "readonly": True}))
    proposal = forms.ModelChoiceField(
        queryset=Proposal.objects.defer("search_vector"), required=False, label="Existing proposal"
    )
    new_title = forms.CharField(required=False, max_length=500, label="…or a new proposal titled")
    new_slug = forms.CharField(
        required=False, max_length=120, label="Its slug", help_text="Made from the title when left empty."
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, admin_site=None, **kwargs):
        super().__init__(*args, **kwargs)
        if admin_site is not None:
            field = self.fields["proposal"]
            field.widget = admin.widgets.AutocompleteSelect(Evidence._meta.get_field("proposal"), admin_site)
            field.widget.choices = field.choices

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("proposal") and cleaned.get("new_title"):
            raise ValidationError("Choose an existing proposal or give a new title, not both.")
        if not cleaned.get("proposal") and not cleaned.get("new_title"):
            raise ValidationError("Choose the proposal this passage backs, or give a title for a new one.")
        return cleaned


def _attach(request, source: Source, data: dict) -> Evidence:
    """One write batch: the new proposal (if any) and the quote, verified by
    ``Evidence.clean`` like every other surface's. Raises ValidationError."""
    with services.write_batch(request.user):
        proposal = data["proposal"]
        if proposal is None:
            title = data["new_title"].strip()
            proposal = services.proposal_create(
                user=request.user, title=title, slug=data["new_slug"].strip() or slugify(title)[:120]
            )
        return services.evidence_attach(
            proposal=proposal,
            source=source,
            quote=data["quote"],
            start=data["start"],
            end=data["end"],
            note=data["note"],
            user=request.user,
        )


def source_reader_view(model_admin, request, object_id):
    """``GET``: the source's text with every mark, and the list of quotes.
    ``POST``: attach the selected passage (see ``AttachForm``)."""
    source = Source.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
    if source is None:
        raise Http404("No such source.")
    if not model_admin.has_view_or_change_permission(request, source):
        raise PermissionDenied
    can_attach = request.user.has_perm("proposals.add_evidence")
    form = AttachForm(request.POST or None, admin_site=model_admin.admin_site)
    if request.method == "POST":
        if not can_attach:
            raise PermissionDenied
        if form.is_valid():
            try:
                evidence = _attach(request, source, form.cleaned_data)
            except ValidationError as exc:
                # Shown above the form: the offsets are hidden fields, and
                # the message names what is wrong either way.
                for error in exc.messages:
                    form.add_error(None, error)
            else:
                messages.success(
                    request,
                    f"Attached {evidence} ({evidence.start}–{evidence.end}) to “{evidence.proposal.title}”.",
                )
                url = reverse("admin:proposals_source_reader", args=[source.pk])
                return redirect(f"{url}#q{evidence.pk}")
    marks = reader_marks(source)
    text = source.text
    opts = Source._meta
    listed = [
        {**mark, "excerpt": _excerpt(text[mark["start"] : mark["end"]])}
        for mark in sorted(marks, key=lambda m: (m["start"], m["end"]))
    ]
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Read: {source.title}",
        "opts": opts,
        "source": source,
        "text_html": render_text(text, marks),
        "text_length": len(text),
        "marks": listed,
        "form": form,
        "can_attach": can_attach,
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, "admin/proposals/source/reader.html", context)


def _excerpt(quote: str, limit: int = 140) -> str:
    return quote if len(quote) <= limit else quote[: limit - 1] + "…"
