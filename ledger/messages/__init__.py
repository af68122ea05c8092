"""Messages a brand sends its customers through Candor: the right channel, at the right
time, one click from the fix.

models (the row per message), decide (the pure channel + time decision, with reasons in
words), services (accept a brand's batch, the one-click unsubscribe), dispatch (the
periodic dispatcher: conditional claim, delivery), gateways (email, SMS, post), links
(the signed, single-use action button), selectors (reads), api (the brand's endpoints),
views (the customer's pages), tasks.
"""
