from django.urls import include, path, re_path

from . import assessment, desk, staff, views

urlpatterns = [
    path("", views.planner_map, name="planner-map"),
    path("map/labels", views.map_labels, name="map-labels"),
    path("map/charts/weekly", views.chart_weekly, name="map-chart-weekly"),
    path("map/charts/categories", views.chart_categories, name="map-chart-categories"),
    path("map/charts/cell", views.chart_cell, name="map-chart-cell"),
    path("map/joint-cases", views.map_joint_cases, name="map-joint-cases"),
    path("map/runs", views.map_runs, name="map-runs"),
    # z/x/y are validated by the view, so a bad number gets the API's error shape instead of an HTML 404.
    re_path(r"^tiles/(?P<layer>[^/]+)/(?P<z>[^/]+)/(?P<x>[^/]+)/(?P<y>[^/]+)\.pbf$", views.tile, name="tile"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("disputes/", staff.dispute_list, name="dispute-queue"),
    path("disputes/<int:pk>/", staff.dispute_detail, name="dispute-page"),
    path("joint-cases/", staff.joint_case_board, name="joint-case-board"),
    path("fix-plans/<int:pk>/", staff.fix_plan_detail, name="fix-plan-page"),
    path("assessment/", assessment.assessment_page, name="assessment-page"),
    path("joint-cases/<int:pk>/", staff.joint_case_page, name="joint-case-page"),
    # 工作台 The staff desk: pages, and the forms they post (each calls a service, which checks the scope).
    path("desk/", desk.desk, name="desk"),
    path("desk/complaints/<int:pk>/", desk.complaint_page, name="desk-complaint"),
    path("desk/complaints/<int:pk>/move/<str:to>", desk.complaint_move, name="desk-complaint-move"),
    path("desk/complaints/<int:pk>/return", desk.complaint_return, name="desk-complaint-return"),
    path("desk/complaints/<int:pk>/callback", desk.complaint_callback, name="desk-complaint-callback"),
    path("desk/complaints/<int:pk>/dispute", desk.complaint_dispute, name="desk-complaint-dispute"),
    path("desk/returns/<int:pk>/review", desk.return_review, name="desk-return-review"),
    path("desk/whistle", desk.whistle, name="desk-whistle"),
    path("desk/fix-plans/new", desk.fix_plan_new, name="desk-fix-plan-new"),
    path("desk/fix-plans/<int:pk>/whistle", desk.fix_plan_whistle, name="desk-fix-plan-whistle"),
    path("desk/disputes/new", desk.dispute_new, name="desk-dispute-new"),
    path("desk/disputes/<int:pk>/status", desk.dispute_status, name="desk-dispute-status"),
    path("desk/disputes/<int:pk>/ruling", desk.dispute_ruling, name="desk-dispute-ruling"),
    path("desk/joint-cases/<int:pk>/check-in", desk.case_check_in, name="desk-case-check-in"),
    path("desk/joint-cases/<int:pk>/notes", desk.case_note, name="desk-case-note"),
    path("desk/joint-cases/<int:pk>/tasks", desk.case_task, name="desk-case-task"),
    path("desk/joint-cases/<int:pk>/tasks/<int:task>/done", desk.case_task_done, name="desk-case-task-done"),
    path("desk/joint-cases/<int:pk>/close", desk.case_close, name="desk-case-close"),
]
