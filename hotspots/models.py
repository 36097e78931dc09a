"""Repeat places, hot spots, idle land and fix plans (高频点位、热点、闲置地块、整治方案).

Built by the hotspots issue; the app is registered now so the layout is in place.
"""
