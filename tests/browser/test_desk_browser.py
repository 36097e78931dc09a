"""The staff desk in a real browser: each role does its day's work by clicking through the pages — 广外 accepts, notes
progress and resolves; 广外 returns the building's complaint, 西城区 reviews it into a dispute and proposes a ruling,
丰台区 confirms it with one button and the complaint goes back out; 西城区城管委 checks in — every desk link answers,
phone-sized screenshots, and the English switch."""

from __future__ import annotations

import re

import pytest

from .conftest import in_thread, screenshot

PREFIX = "BROWSER-DESK-"
GUANGWAI, TAIPINGQIAO = "110102020", "110106002"


@pytest.fixture(scope="module")
def desk_world(django_db_setup, django_db_blocker):
    """Committed for the server thread, removed afterwards: a complaint in 广外 to work on, one at the straddling
    building to return, and a joint case summoning 西城区城管委."""
    from django.contrib.auth.models import User

    from complaints import services
    from complaints.permissions import SYSTEM
    from jurisdictions.demo import demo_users_create
    from jurisdictions.models import Building

    def teardown(ids=None):
        from complaints.models import Complaint, JointCase, ReturnRequest
        from jurisdictions.models import AuditEntry, Dispute, Rule, Ruling, RulingConfirmation

        mine = list(Complaint.objects.filter(external_id__startswith=PREFIX).values_list("pk", flat=True))
        disputes = list(Dispute.objects.filter(origin_ref__in=[f"complaint:{pk}" for pk in mine]))
        rulings = list(Ruling.objects.filter(dispute__in=disputes))
        rule_ids = [r.rule_id for r in rulings if r.rule_id]
        AuditEntry.objects.filter(
            object_type="jurisdictions.dispute", object_id__in=[str(d.pk) for d in disputes]
        ).delete()
        AuditEntry.objects.filter(
            object_type="jurisdictions.ruling", object_id__in=[str(r.pk) for r in rulings]
        ).delete()
        AuditEntry.objects.filter(object_type="jurisdictions.rule", object_id__in=[str(i) for i in rule_ids]).delete()
        RulingConfirmation.objects.filter(ruling__in=rulings).delete()
        Ruling.objects.filter(pk__in=[r.pk for r in rulings]).update(supersedes=None)
        Ruling.objects.filter(pk__in=[r.pk for r in rulings]).delete()
        Rule.objects.filter(pk__in=rule_ids).delete()
        Dispute.objects.filter(pk__in=[d.pk for d in disputes]).delete()
        cases = JointCase.objects.filter(title__startswith="浏览器测试：")
        AuditEntry.objects.filter(
            object_type="complaints.jointcase", object_id__in=[str(pk) for pk in cases.values_list("pk", flat=True)]
        ).delete()
        cases.delete()
        ReturnRequest.objects.filter(complaint_id__in=mine).delete()
        Complaint.objects.filter(pk__in=mine).delete()

    def setup():
        teardown()  # what an interrupted run left behind
        demo_users_create()
        point = Building.objects.get(code="SYN-B-0001").geom.point_on_surface

        def intake(number, category, lon, lat, text):
            data = services.IntakeData(
                category=category, lon=lon, lat=lat, external_id=f"{PREFIX}{number}", description=text
            )
            return services.complaint_intake(data=data, by=SYSTEM).complaint

        work = intake(1, "010201", 116.34, 39.885, "浏览器测试：垃圾堆放")
        building = intake(2, "020102", point.x, point.y, "浏览器测试：交界违建")
        case = services.whistle_blow(
            by=User.objects.get(username="guangwai"),
            title="浏览器测试：联合检查",
            leads=[GUANGWAI],
            summon=["110102.city_management"],
            complaints=[work.pk],
        )
        return {"work": work.pk, "building": building.pk, "case": case.pk}

    with django_db_blocker.unblock():
        ids = in_thread(setup)
    yield ids
    with django_db_blocker.unblock():
        in_thread(teardown, ids)


def submit(page, form: str) -> None:
    """Click the form's submit button and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]")


def test_street_accepts_notes_progress_and_resolves(open_page, desk_world):
    page, log = open_page(f"/desk/complaints/{desk_world['work']}/", user="guangwai")
    assert page.locator("#complaint-status").inner_text().startswith("已派单")
    assert page.locator("#form-review, #form-callback, #ruling-form").count() == 0  # nothing it may not do
    submit(page, "#form-accept")
    assert "已签收" in page.locator("#complaint-status").inner_text()
    page.fill("#form-progress textarea[name=note]", "已到现场，安排清运")
    submit(page, "#form-progress")
    assert "办理中" in page.locator("#complaint-status").inner_text()
    page.fill("#form-progress textarea[name=note]", "清运车辆已到")  # a further progress note
    submit(page, "#form-progress")
    assert "办理中" in page.locator("#complaint-status").inner_text()
    assert "清运车辆已到" in page.locator("#history").inner_text()
    page.fill("#form-resolve textarea[name=note]", "垃圾已清运完毕")
    submit(page, "#form-resolve")
    assert "已办结" in page.locator("#complaint-status").inner_text()
    history = page.locator("#history").inner_text()
    assert "已到现场" in history and "垃圾已清运完毕" in history
    screenshot(page, "desk-complaint-resolved.png")
    log.assert_clean()


def test_return_review_dispute_propose_and_confirm_with_one_button(open_page, desk_world):
    complaint = desk_world["building"]
    # 广外 returns it (退单) with a reason code.
    page, log = open_page(f"/desk/complaints/{complaint}/", user="guangwai")
    assert "建筑物跨界占比" in page.locator("#verdict").inner_text()
    form = page.locator("form.form-return").first
    form.locator("select[name=reason]").select_option("not_our_area")
    form.locator("textarea[name=note]").fill("违建主体在太平桥一侧")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "已退单" in page.locator("#complaint-status").inner_text()
    log.assert_clean()

    # 西城区 finds it in the review queue and turns it into a dispute, then proposes a ruling.
    page, log = open_page("/desk/", user="xicheng")
    with page.expect_navigation():
        page.locator("#review-queue a", has_text=f"{PREFIX}2").click()
    page.check("#form-review input[value=disputed]")
    page.fill("#form-review textarea[name=note]", "交界违建，提请两区裁定")
    submit(page, "#form-review")
    assert re.search(r"/disputes/\d+/$", page.url)
    dispute_url = page.url
    page.wait_for_function("Number(document.body.getAttribute('data-areas-loaded')) >= 4")
    labels = page.locator(".area-label").all_inner_texts()
    assert "广安门外街道" in labels and "太平桥街道" in labels  # both sides named on the map
    page.select_option("#ruling-form select[name=lead_code]", GUANGWAI)
    assert page.locator(f"#ruling-form input[name=co_handler_codes][value='{GUANGWAI}']").is_hidden()
    page.check(f"#ruling-form input[name=co_handler_codes][value='{TAIPINGQIAO}']")
    page.fill("#ruling-form textarea[name=reason]", "违建七成在广外：广外牵头，太平桥协办")
    submit(page, "#ruling-form")
    assert "待其他区确认" in page.locator("#messages").inner_text()
    assert "丰台区" in page.locator("#rulings .missing").first.inner_text()
    screenshot(page, "desk-dispute-proposed.png")
    log.assert_clean()

    # A street reads the dispute but is offered no ruling form.
    dispute_path = "/" + dispute_url.split("/", 3)[3]
    page, log = open_page(dispute_path, user="taipingqiao")
    assert page.locator("#ruling-form, #confirm-form, #form-under-review").count() == 0
    assert page.locator("#no-ruling-form").is_visible()
    log.assert_clean()

    # 丰台区 confirms the pending proposal with one button, giving its own reason.
    page, log = open_page(dispute_path, user="fengtai")
    page.fill("#confirm-form textarea[name=reason]", "丰台区同意，太平桥协办")
    submit(page, "#confirm-form")
    assert "裁定已生效" in page.locator("#messages").inner_text()
    assert "已裁定" in page.locator("#dispute-status").inner_text()
    went = page.locator("#where-it-went").inner_text()
    assert "广安门外街道" in went and "已派单" in went
    assert "丰台区同意，太平桥协办" in page.locator("#rulings").inner_text()
    assert "丰台区同意，太平桥协办" in page.locator("#audit").inner_text()
    audit = page.locator("#audit").inner_text()
    assert "{'" not in audit and "+00:00" not in audit and "ruling.confirm" not in audit
    screenshot(page, "desk-dispute-ruled.png")
    log.assert_clean()


def test_department_checks_in_on_the_board(open_page, desk_world):
    page, log = open_page("/joint-cases/", user="xicheng_cgw")
    case = page.locator(f"section[data-case='{desk_world['case']}']")
    with page.expect_navigation():
        case.locator("form.check-in button").click()
    row = page.locator(f"section[data-case='{desk_world['case']}'] tr[data-party='110102.city_management']")
    assert "✔" in row.inner_text()
    assert page.locator(f"section[data-case='{desk_world['case']}'] form.check-in").count() == 0
    screenshot(page, "desk-joint-case-checked-in.png")
    log.assert_clean()


@pytest.mark.parametrize("user", ["guangwai", "xicheng", "xicheng_cgw", "planner", "api_client"])
def test_every_desk_link_answers(open_page, desk_world, user):
    page, log = open_page("/desk/", user=user)
    origin = re.match(r"https?://[^/]+", page.url).group(0)
    seen, todo = set(), ["/desk/", "/disputes/", "/joint-cases/"]
    while todo and len(seen) < 25:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = page.goto(origin + path)
        assert response.status < 400, (user, path, response.status)
        hrefs = page.locator("main a[href^='/']").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        todo += [h for h in hrefs if h.split("?")[0] not in seen and not h.startswith("/api/")]
    log.assert_clean()


def test_phone_sized_desk_and_complaint_page(open_page, desk_world):
    page, log = open_page("/desk/", user="guangwai")
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_selector("#desk-map .leaflet-interactive")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, width  # no sideways scrolling on a phone
    screenshot(page, "desk-phone.png")
    page.goto(page.url.replace("/desk/", f"/desk/complaints/{desk_world['work']}/"))
    screenshot(page, "desk-complaint-phone.png")
    log.assert_clean()


def test_english_switch_on_the_desk(open_page, desk_world):
    page, log = open_page("/desk/", user="guangwai")
    assert page.locator("h1 > .zh").is_visible() and not page.locator("h1 > .en").is_visible()
    page.click("#staff-lang")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("h1 > .en").is_visible() and "Desk" in page.locator("h1").inner_text()
    assert "工作台" not in page.locator("h1").inner_text()
    screenshot(page, "desk-english.png")
    log.assert_clean()
