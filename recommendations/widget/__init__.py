"""The brand widget, in one folder: what the embedded script talks to.

api (the ninja router under /api/v1/widget/), auth (publishable key, origin, customer
token), ratelimit, cache (the shared cache, raw where speed needs it), memo (personal
answers kept per process, invalidated over Redis pub/sub), answers (the serialized
answers), events (impressions, clicks, "not interested"), views (the brands' docs page).
"""
