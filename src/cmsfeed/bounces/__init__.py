"""Bounces and complaints: what a returned message says, and whose digest it was. Pure: no I/O.

- `parse`: a message's bytes -> a `Report` (delivery status notifications, RFC 3464; abuse
  reports, RFC 5965; the many non-standard bounce formats through flufl.bounce);
- `verp`: the signed envelope sender `bounces+<token>@domain` naming an outbox row;
- `match`: a report and what the store knows -> which subscriber it concerns, or why none.

Reading mailboxes and acting on reports is `cmsfeed.bounce_mailbox` (the I/O edge).
"""
