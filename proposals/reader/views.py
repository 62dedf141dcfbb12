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

from .. import services
from ..models import Evidence, Proposal, Source
from . import reader_marks, render_text, slug_from_title


def _lines(text: str) -> str:
    """``text`` with CR LF and lone CR as LF: a browser posts form values
    with CR LF line breaks whatever the page held (HTML, "converting an
    entry list to a list of name-value pairs")."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _shown(text: str, limit: int = 80) -> str:
    """``repr`` of ``text``, cut in the middle past ``limit`` characters: an
    error shows line breaks and spaces as they are."""
    if len(text) > limit:
        text = text[: limit // 2] + "…" + text[-limit // 2 :]
    return repr(text)


class AttachForm(forms.Form):
    """A passage of the source (offsets in code points, as the reader's
    script computed them from the selection) and the proposal it backs."""

    start = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    end = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    # The selection as the page showed it, a check on the offsets (strip=False:
    # spaces count); the stored quote is the source's own text at the offsets.
    quote = forms.CharField(strip=False, widget=forms.HiddenInput)
    proposal = forms.ModelChoiceField(
        queryset=Proposal.objects.defer("search_vector"), required=False, label="Existing proposal"
    )
    new_title = forms.CharField(required=False, max_length=500, label="…or a new proposal titled")
    new_slug = forms.CharField(
        required=False, max_length=120, label="Its slug", help_text="Made from the title when left empty."
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, source=None, user=None, admin_site=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.source, self.user = source, user
        if user is not None and not user.has_perm("proposals.add_proposal"):
            del self.fields["new_title"], self.fields["new_slug"]
        if admin_site is not None:
            field = self.fields["proposal"]
            field.widget = admin.widgets.AutocompleteSelect(Evidence._meta.get_field("proposal"), admin_site)
            field.widget.choices = field.choices

    def clean(self):
        cleaned = super().clean()
        cleaned.setdefault("new_title", "")
        cleaned.setdefault("new_slug", "")
        if cleaned.get("proposal") and cleaned["new_title"]:
            raise ValidationError("Choose an existing proposal or give a new title, not both.")
        if not cleaned.get("proposal") and not cleaned["new_title"]:
            if "new_title" not in self.fields:
                raise ValidationError("Choose the proposal this passage backs.")
            raise ValidationError("Choose the proposal this passage backs, or give a title for a new one.")
        if self.user is not None and cleaned.get("proposal") and not self.user.has_perm("proposals.change_proposal"):
            # A quote is part of its proposal (it bumps its version and ETag).
            raise ValidationError("You may not change proposals, so you cannot attach quotes to one.")
        self._clean_selection(cleaned)
        return cleaned

    def _clean_selection(self, cleaned) -> None:
        """The offsets must lie in the text, and the posted quote must be the
        text there (line breaks compared as LF: see ``_lines``). The quote
        kept is the source's own text at those offsets."""
        start, end, quote = cleaned.get("start"), cleaned.get("end"), cleaned.get("quote")
        if self.source is None or start is None or end is None or quote is None:
            return
        length = len(self.source.text)
        if not start < end <= length:
            raise ValidationError(
                f"The selection {start}–{end} is not within the text, which has {length} characters "
                "(code points). Select the passage again."
            )
        actual = self.source.text[start:end]
        if _lines(actual) != _lines(quote):
            raise ValidationError(
                f"The text at {start}–{end} is {_shown(actual)}, not the selected {_shown(quote)}. "
                "The text may have changed since the page was loaded: reload it and select the passage again."
            )
        cleaned["quote"] = actual


def _attach(request, source: Source, data: dict) -> Evidence:
    """One write batch: the new proposal (if any) and the quote, verified by
    ``Evidence.clean`` like every other surface's. Raises ValidationError."""
    with services.write_batch(request.user):
        proposal = data["proposal"]
        if proposal is None:
            if not request.user.has_perm("proposals.add_proposal"):
                raise PermissionDenied
            title = data["new_title"].strip()
            proposal = services.proposal_create(
                user=request.user, title=title, slug=data["new_slug"].strip() or slug_from_title(title)
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
    form = AttachForm(request.POST or None, source=source, user=request.user, admin_site=model_admin.admin_site)
    if request.method == "POST":
        if not can_attach:
            raise PermissionDenied
        if form.is_valid():
            try:
                evidence = _attach(request, source, form.cleaned_data)
            except ValidationError as exc:
                _show_errors(form, exc)
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
        # The help line counts quotes and pending suggestions apart.
        "quote_count": sum(1 for mark in listed if mark["kind"] == "quote"),
        "suggestion_count": sum(1 for mark in listed if mark["kind"] == "suggestion"),
        "form": form,
        "can_attach": can_attach,
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, "admin/proposals/source/reader.html", context)


#: The new proposal's fields as the attach form names them.
_FORM_FIELDS = {"slug": "new_slug", "title": "new_title", "note": "note"}


def _show_errors(form: AttachForm, exc: ValidationError) -> None:
    """A refusal against the field the user can fix (a slug error on the
    slug box, filled with the slug that was tried); the rest above the form
    (the offsets are hidden fields: the message names what is wrong)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.message_dict.items():
        field = _FORM_FIELDS.get(name)
        if field in form.fields and field in form.cleaned_data:
            if field == "new_slug" and not form.cleaned_data["new_slug"]:
                form.data = form.data.copy()
                form.data["new_slug"] = slug_from_title(form.cleaned_data["new_title"])
            form.add_error(field, errors)
        else:
            form.add_error(None, [f"{name}: {error}" if name != "__all__" else error for error in errors])


def _excerpt(quote: str, limit: int = 140) -> str:
    return quote if len(quote) <= limit else quote[: limit - 1] + "…"
