/*  test_hafsm.c - Binary Star's state machine (ovh_hafsm), as a table:
    every state × every event, with the peer alive or silent past the
    timeout, and what follows: the next state and whether it was a change,
    nothing, or a refusal.                                                 */

#include "ovh_test.h"
#include "ovh_hafsm.h"

#define T           2000        //  the timeout, ms
#define ALIVE       1000        //  'now' with the peer heard at 0
#define GONE        2500        //  'now' past the peer's expiry

enum { SAME = OVH_HAFSM_SAME, CHANGED = OVH_HAFSM_CHANGED, REFUSED = OVH_HAFSM_REFUSED };
enum { PRIMARY = OVH_HA_PRIMARY, BACKUP = OVH_HA_BACKUP, ACTIVE = OVH_HA_ACTIVE,
       PASSIVE = OVH_HA_PASSIVE };
enum { P_PRIMARY = OVH_HA_PEER_PRIMARY, P_BACKUP = OVH_HA_PEER_BACKUP,
       P_ACTIVE = OVH_HA_PEER_ACTIVE, P_PASSIVE = OVH_HA_PEER_PASSIVE, DEMAND = OVH_HA_DEMAND };

typedef struct {
    bool primary;
    int state;
    int event;
    int64_t now;
    int result;
    int next;
} s_case_t;

static const s_case_t s_cases [] = {
    //  A starting primary: the active peer stays active, a starting backup
    //  makes it active; alone, it serves once the peer had its chance
    { true,  PRIMARY, P_PRIMARY, ALIVE, SAME,    PRIMARY },
    { true,  PRIMARY, P_BACKUP,  ALIVE, CHANGED, ACTIVE  },
    { true,  PRIMARY, P_ACTIVE,  ALIVE, CHANGED, PASSIVE },
    { true,  PRIMARY, P_PASSIVE, ALIVE, SAME,    PRIMARY },
    { true,  PRIMARY, DEMAND,    ALIVE, SAME,    PRIMARY },
    { true,  PRIMARY, DEMAND,    GONE,  CHANGED, ACTIVE  },
    //  A starting backup never serves first
    { false, BACKUP,  P_PRIMARY, ALIVE, SAME,    BACKUP  },
    { false, BACKUP,  P_BACKUP,  ALIVE, SAME,    BACKUP  },
    { false, BACKUP,  P_ACTIVE,  ALIVE, CHANGED, PASSIVE },
    { false, BACKUP,  P_PASSIVE, ALIVE, SAME,    BACKUP  },
    { false, BACKUP,  DEMAND,    ALIVE, REFUSED, BACKUP  },
    { false, BACKUP,  DEMAND,    GONE,  REFUSED, BACKUP  },
    //  Active: stays, whatever the peer; two actives: the backup yields
    { true,  ACTIVE,  P_PRIMARY, ALIVE, SAME,    ACTIVE  },
    { true,  ACTIVE,  P_BACKUP,  ALIVE, SAME,    ACTIVE  },
    { true,  ACTIVE,  P_PASSIVE, ALIVE, SAME,    ACTIVE  },
    { true,  ACTIVE,  DEMAND,    GONE,  SAME,    ACTIVE  },
    { true,  ACTIVE,  P_ACTIVE,  ALIVE, REFUSED, ACTIVE  },
    { false, ACTIVE,  P_ACTIVE,  ALIVE, CHANGED, PASSIVE },
    { false, ACTIVE,  P_PRIMARY, ALIVE, SAME,    ACTIVE  },
    //  Passive (standby): takes over when the peer restarts, or when it
    //  went silent and events come in; never while it lives
    { true,  PASSIVE, P_PRIMARY, ALIVE, CHANGED, ACTIVE  },
    { false, PASSIVE, P_BACKUP,  ALIVE, CHANGED, ACTIVE  },
    { false, PASSIVE, P_PRIMARY, ALIVE, CHANGED, ACTIVE  },
    { true,  PASSIVE, P_ACTIVE,  ALIVE, SAME,    PASSIVE },
    { false, PASSIVE, P_ACTIVE,  ALIVE, SAME,    PASSIVE },
    { true,  PASSIVE, P_PASSIVE, ALIVE, CHANGED, ACTIVE  },
    { false, PASSIVE, P_PASSIVE, ALIVE, REFUSED, PASSIVE },
    { false, PASSIVE, DEMAND,    ALIVE, REFUSED, PASSIVE },
    { false, PASSIVE, DEMAND,    GONE,  CHANGED, ACTIVE  },
    { true,  PASSIVE, DEMAND,    GONE,  CHANGED, ACTIVE  },
};

static void
test_table (void)
{
    for (size_t index = 0; index < sizeof s_cases / sizeof s_cases [0]; index++) {
        const s_case_t *c = &s_cases [index];
        ovh_hafsm_t fsm;
        ovh_hafsm_init (&fsm, c->primary, T, 0);
        fsm.state = (ovh_ha_state_t) c->state;
        const char *why = NULL;
        int result = ovh_hafsm_step (&fsm, (ovh_ha_event_t) c->event, c->now, &why);
        CHECK_MSG (result == c->result && (int) fsm.state == c->next,
                   "case %zu (%s, %s, event %d, now %d): got result %d, state %s; want %d, %s",
                   index, c->primary? "primary": "backup", ovh_hafsm_state_name (c->state),
                   c->event, (int) c->now, result, ovh_hafsm_state_name (fsm.state),
                   c->result, ovh_hafsm_state_name (c->next));
        //  A change always says why, for the log line
        CHECK (why && (result != CHANGED || *why));
    }
}

static void
test_heard_postpones_expiry (void)
{
    //  Heard at 1500: alive until 3500, gone after
    ovh_hafsm_t fsm;
    ovh_hafsm_init (&fsm, false, T, 0);
    fsm.state = OVH_HA_PASSIVE;
    ovh_hafsm_heard (&fsm, 1500);
    const char *why;
    CHECK (ovh_hafsm_step (&fsm, OVH_HA_DEMAND, 3499, &why) == OVH_HAFSM_REFUSED);
    CHECK (fsm.state == OVH_HA_PASSIVE);
    CHECK (ovh_hafsm_step (&fsm, OVH_HA_DEMAND, 3500, &why) == OVH_HAFSM_CHANGED);
    CHECK (fsm.state == OVH_HA_ACTIVE);
}

static void
test_pair_converges (void)
{
    //  Two machines that hear each other end up one active, one passive,
    //  whatever order they start in, and stay so
    for (int first = 0; first < 2; first++) {
        ovh_hafsm_t pair [2];
        ovh_hafsm_init (&pair [0], true, T, 0);
        ovh_hafsm_init (&pair [1], false, T, 0);
        const char *why;
        for (int round = 0; round < 6; round++)
            for (int turn = 0; turn < 2; turn++) {
                int me = (turn + first) % 2;
                ovh_hafsm_step (&pair [me], (ovh_ha_event_t) pair [1 - me].state, 100, &why);
                ovh_hafsm_step (&pair [me], OVH_HA_DEMAND, 100, &why);
            }
        CHECK_MSG (pair [0].state == OVH_HA_ACTIVE && pair [1].state == OVH_HA_PASSIVE,
                   "start %d: primary %s, backup %s", first,
                   ovh_hafsm_state_name (pair [0].state), ovh_hafsm_state_name (pair [1].state));
    }
}

int
main (void)
{
    test_table ();
    test_heard_postpones_expiry ();
    test_pair_converges ();
    return ovh_test_done ("test_hafsm");
}
