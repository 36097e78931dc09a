import datetime as dt

from django.core.management.base import BaseCommand

from jurisdictions.selectors import rule_list


class Command(BaseCommand):
    help = "列出管辖规则 List jurisdiction rules (in force today unless --all or --on)."

    def add_arguments(self, parser):
        parser.add_argument("--on", type=dt.date.fromisoformat, help="rules in force on YYYY-MM-DD")
        parser.add_argument("--all", action="store_true", help="include ended and future rules")

    def handle(self, *args, on, all, **options):
        rules = rule_list(on=on, include_ended=all)
        for rule in rules:
            place = f"building {rule.building.code}" if rule.building_id else "area"
            co = ",".join(rule.co_handler_codes) or "—"
            until = rule.valid_to or "…"
            ref = f" [{rule.ruling_ref}]" if rule.ruling_ref else ""
            self.stdout.write(
                f"#{rule.pk} {rule.valid_from}–{until} {place}: lead {rule.lead_code}, co {co}; "
                f"{rule.reason} — {rule.author}{ref}"
            )
        self.stdout.write(f"{len(rules)} rule(s)")
