"""Complaints, categories, dispatch and deadlines (投诉、分类、派单、时限).

Built by the intake issue; the app is registered now so the layout is in place.
"""
