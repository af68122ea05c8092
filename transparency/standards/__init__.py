"""The standards layer over the registry: legal basis, consent receipts and the consent
history chain, GPC, records of processing. Built from the registry, never by hand."""
