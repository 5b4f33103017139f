"""Use cases: previews (cache, single-flight, rate limit), selective sync, activity, accounts."""
