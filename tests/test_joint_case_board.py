"""The joint-case board page: who was summoned, who has checked in, scoped to the user."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from complaints import services
from jurisdictions.demo import demo_users_create

pytestmark = pytest.mark.django_db

GUANGWAI, TAIPINGQIAO = "110102020", "110106002"


def test_board_shows_check_in_status_to_the_cases_parties_only(client):
    demo_users_create()
    users = {u.username: u for u in User.objects.filter(staff__demo=True)}
    case = services.whistle_blow(
        by=users["guangwai"],
        title="交界违建联合执法",
        leads=[GUANGWAI, TAIPINGQIAO],
        summon=["110102.city_management", "110106.city_management"],
    )
    services.check_in(case=case, by=users["xicheng_cgw"], party="110102.city_management")

    assert client.get(reverse("joint-case-board")).status_code == 302  # login required
    client.force_login(users["taipingqiao"])
    html = client.get(reverse("joint-case-board")).content.decode()
    assert f'data-case="{case.pk}"' in html
    assert 'class="party-in" data-party="110102.city_management"' in html
    assert 'class="party-waiting" data-party="110106.city_management"' in html
    assert "未报到 1 家" in html

    client.force_login(users["xueyuanlu"])  # 海淀: not a party
    assert f'data-case="{case.pk}"' not in client.get(reverse("joint-case-board")).content.decode()
