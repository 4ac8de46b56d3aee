"""hapaths - what the redundancy and scale-out tests (test_ha_*.py) share:
their warm-up and their checks of what the tails printed.

Warm-up: a consumer's subscriptions must have reached every proxy before
the publishers start, or a proxy would drop their first events for want
of a subscriber. Throw-away events (sessionId "warmup-<tag>", with an
envelope of their own so that redundant consumers keep them once) go out
on every topic, from one pyzmq publisher per proxy, until every consumer
got each topic from each publisher it should."""

import json
import time

import ovhtest
import topology

WARMUP = b"warmup-"


def is_warm (line):
    session = topology.session_of (line.split (b"\t", 1) [0])
    return session is not None and session.startswith (WARMUP.decode ())


def warm_up (test, frontends, topics, consumers, sessions=None):
    """frontends: one connect endpoint per proxy; consumers: [(name, lines,
    wanted)]: lines() gives what the consumer got so far, wanted: the
    session ids it must see on every topic. sessions: the warm-up session
    of each frontend ("warmup-<index>" by default)."""
    sessions = sessions or ["warmup-%d" % index for index in range (len (frontends))]
    publishers = []
    for index, endpoint in enumerate (frontends):
        publisher = test.publisher (endpoint, topics)
        publishers.append ((publisher, "warm-%d" % index, sessions [index]))

    def missing ():
        result = []
        for name, lines, wanted in consumers:
            seen = {(topology.topic_of (line.split (b"\t") [0]),
                     topology.session_of (line.split (b"\t") [0])) for line in lines ()
                    if is_warm (line)}
            result += ["%s: %s of %s" % (name, topic, session) for topic in topics
                       for session in wanted if (topic, session) not in seen]
        return result

    seq = 0
    deadline = time.monotonic () + 20 * ovhtest.SLOW
    while missing ():
        if time.monotonic () > deadline:
            raise AssertionError ("warm-up: still missing %s" % missing ())
        seq += 1
        for publisher, src, session in publishers:
            for topic in topics:
                publisher.send (topic, {"timestamp": seq, "sessionId": session},
                                {"src": src, "seq": seq, "epoch": 1})
        time.sleep (0.05)
    for publisher, src, session in publishers:
        publisher.close ()


def pypublish_input (test, name, lines):
    """The input file of topology.py's pypublish for these webhook lines."""
    path = "%s/%s.jsonl" % (test.tmp, name)
    with open (path, "wb") as f:
        for line in lines:
            f.write (json.dumps ({"webhook": line.decode ()}).encode () + b"\n")
    return path


def inversions (want, got):
    """Pairs of events of 'got' (a permutation of 'want') that came in the
    other order than in 'want'."""
    index = {item: position for position, item in enumerate (want)}
    positions = [index [item] for item in got]
    return sum (1 for a in range (len (positions)) for b in range (a + 1, len (positions))
                if positions [a] > positions [b])


def check_once (test, feeds, bodies, what):
    """Every feed's events arrived exactly once and nothing else did.
    Returns the order inversions within sessions (docs/ha.md: a path that
    rejoins while the other lags can deliver a few events of the lag
    early)."""
    owner = {session: feed for feed in feeds for session in feed.sessions}
    got = {feed.name: [] for feed in feeds}
    for body in bodies:
        feed = owner.get (topology.session_of (body))
        test.assertIsNotNone (feed, "%s: a body of no publisher: %r" % (what, body))
        got [feed.name].append (body)
    count = 0
    for feed in feeds:
        test.assertEqual (sorted (got [feed.name]), sorted (feed.lines),
                          "%s: the events of %s, each exactly once" % (what, feed.name))
        mine = feed.by_session (got [feed.name])
        for session, lines in feed.by_session ().items ():
            count += inversions (lines, mine [session])
    return count


def check_tail (test, feeds, lines, name):
    """A tail --envelope printed each event of each feed once, with seq
    1..n per src and topic. Returns the order inversions per src."""
    by_src = {}
    for line in lines:
        json_text, src, seq = line.split (b"\t")
        by_src.setdefault (src.decode (), []).append ((json_text, int (seq)))
    test.assertEqual (sorted (by_src), sorted (feed.src for feed in feeds), name)
    count = 0
    for feed in feeds:
        got = by_src [feed.src]
        test.assertEqual (sorted (j for j, s in got), sorted (feed.lines),
                          "%s: the events of %s, each exactly once" % (name, feed.name))
        count += inversions (feed.lines, [j for j, s in got])
        per_topic = {}
        for json_text, seq in got:
            per_topic.setdefault (topology.topic_of (json_text), []).append (seq)
        for topic, seqs in per_topic.items ():
            test.assertEqual (sorted (seqs), list (range (1, len (seqs) + 1)),
                              "%s: seq of %s %s" % (name, feed.src, topic))
    return count
