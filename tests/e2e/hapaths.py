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


def check_tail (test, feeds, lines, name):
    """A tail --envelope printed each event of each feed once, in the
    feed's order, with seq 1..n per src and topic."""
    by_src = {}
    for line in lines:
        json_text, src, seq = line.split (b"\t")
        by_src.setdefault (src.decode (), []).append ((json_text, int (seq)))
    test.assertEqual (sorted (by_src), sorted (feed.src for feed in feeds), name)
    for feed in feeds:
        got = by_src [feed.src]
        test.assertEqual ([j for j, s in got], feed.lines,
                          "%s: the events of %s, once each, in order" % (name, feed.name))
        per_topic = {}
        for json_text, seq in got:
            per_topic.setdefault (topology.topic_of (json_text), []).append (seq)
        for topic, seqs in per_topic.items ():
            test.assertEqual (seqs, list (range (1, len (seqs) + 1)),
                              "%s: seq of %s %s" % (name, feed.src, topic))
