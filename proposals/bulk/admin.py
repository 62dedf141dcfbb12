"""The proposal list's bulk actions: each shows a form page for the
selected proposals, then applies it through ``proposals.bulk`` in one write
batch, or shows why not (nothing written)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from ..models import DatePrecision, Source, Status, Topic, latest_allowed_date
from . import proposals_add_status_event, proposals_add_topic


class StatusEventBulkForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)
    occurred_on = forms.DateField(label="Date", widget=admin.widgets.AdminDateWidget)
    precision = forms.ChoiceField(choices=DatePrecision.choices, initial=DatePrecision.DAY)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))
    source = forms.ModelChoiceField(
        queryset=Source.objects.only("id", "title").order_by("title", "id"),
        required=False,
        help_text="Optional evidence: the same quote is attached to each proposal.",
    )
    # strip=False: the quote must match the source text exactly.
    quote = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))
    start = forms.IntegerField(
        required=False, min_value=0, help_text="Offset (code points), only if the quote occurs more than once."
    )

    def clean_occurred_on(self):
        day = self.cleaned_data["occurred_on"]
        if day > latest_allowed_date():
            raise ValidationError("A status event cannot be dated in the future.")
        return day


class TopicBulkForm(forms.Form):
    topic = forms.ModelChoiceField(queryset=Topic.objects.only("id", "name").order_by("name"))


def _form_page(modeladmin, request, queryset, form, *, action: str, title: str, intro: str):
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "intro": intro,
        "opts": modeladmin.model._meta,
        "form": form,
        "action": action,
        "proposals": list(
            queryset.select_related(None).prefetch_related(None).only("id", "title", "slug", "status")[:200]
        ),
        "count": queryset.count(),
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
        "media": modeladmin.media + form.media,
    }
    return TemplateResponse(request, "admin/proposals/proposal/bulk_action.html", context)


@admin.action(description="Add a status event to selected proposals", permissions=["change"])
def add_status_event(modeladmin, request, queryset):
    form = StatusEventBulkForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        data = form.cleaned_data
        try:
            count, skipped = proposals_add_status_event(
                proposals=queryset.defer("search_vector"),
                status=data["status"],
                occurred_on=data["occurred_on"],
                precision=data["precision"],
                note=data["note"],
                source=data["source"],
                quote=data["quote"],
                start=data["start"],
                user=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, ValidationError(exc.messages))
        else:
            label = dict(Status.choices)[data["status"]]
            event = f"“{label}, {data['occurred_on']} ({data['precision']})”"
            modeladmin.message_user(request, f"Added {event} to {count} proposal(s).", messages.SUCCESS)
            if skipped:
                names = "; ".join(f"{p.title} ({p.slug})" for p in skipped)
                modeladmin.message_user(
                    request, f"Left out {len(skipped)} that already had {event}: {names}.", messages.WARNING
                )
            return None
    return _form_page(
        modeladmin,
        request,
        queryset,
        form,
        action="add_status_event",
        title="Add a status event to the selected proposals",
        intro="Every proposal below gets this event; if one refuses it, none does.",
    )


@admin.action(description="Attach a topic to selected proposals", permissions=["change"])
def attach_topic(modeladmin, request, queryset):
    form = TopicBulkForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        try:
            count = proposals_add_topic(
                proposals=queryset.defer("search_vector"), topic=form.cleaned_data["topic"], user=request.user
            )
        except ValidationError as exc:
            form.add_error(None, ValidationError(exc.messages))
        else:
            modeladmin.message_user(
                request, f"Added the topic “{form.cleaned_data['topic']}” to {count} proposal(s).", messages.SUCCESS
            )
            return None
    return _form_page(
        modeladmin,
        request,
        queryset,
        form,
        action="attach_topic",
        title="Attach a topic to the selected proposals",
        intro="Proposals that already have the topic are left as they are.",
    )


#: The actions that write in their own write batch (so a refusal rolls all
#: of it back), not in the changelist's.
BULK_ACTIONS = ("add_status_event", "attach_topic")
