"""Helpers shared by the test modules, one of each (tests/test_support_helpers.py checks it).

clock        FixedClock and T0: the one clock, moved by hand (the `clock` fixture)
ports        free_port: a port on 127.0.0.1 for servers that only take a number
waiting      wait_until: poll a condition against a deadline, naming what timed out
items        make_item: an Item from a title, everything else by keyword
config       the one config builder: write_config / digest_config (three topics, English and
             Russian) and write_bundled_config (the bundled sample; the `make_config` fixture)
cli          CMSFEED: the command as this interpreter's `-m cmsfeed`
smtp_server  SmtpServer: a real aiosmtpd server recording what arrives (`smtp_server` fixture)
smtp_faults  FaultyServer: one that misbehaves stage by stage (`faulty_smtp_server` fixture)
smtp_sink    a fast aiosmtpd sink in its own process (the multi-worker test)
digest       open_stores (closed by conftest after each test) and SECRET
mail_round   a mailer over subscribers and items, and one round run to its end
digest_sender  `cmsfeed digest send` in a subprocess, for the crash tests
signup_site  the sign-up pages on a real uvicorn server (the `site` fixture) and a sign-up
feeds        sites, sample items, the feed validators' rules, uvicorn in a thread
ingest       a real HTTP server of source fixtures, with validators and failures
language     the language tests' identifier, preparer and source files
bounce       digests really sent, and the bounce fixtures rewritten about them
browser      `cmsfeed run` in a subprocess and headless Chromium
"""
