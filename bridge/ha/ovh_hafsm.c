/*  ovh_hafsm.c - Binary Star's finite-state machine. The rules are
    bstar.c's (s_execute_fsm), one case per state; the one addition is what
    an active does on hearing another active (see below).                   */

#include <stddef.h>
#include "ovh_hafsm.h"

void
ovh_hafsm_init (ovh_hafsm_t *self, bool primary, int timeout, int64_t now)
{
    self->state = primary? OVH_HA_PRIMARY: OVH_HA_BACKUP;
    self->primary = primary;
    self->timeout = timeout;
    self->peer_expiry = now + timeout;
}

void
ovh_hafsm_heard (ovh_hafsm_t *self, int64_t now)
{
    self->peer_expiry = now + self->timeout;
}

const char *
ovh_hafsm_state_name (ovh_ha_state_t state)
{
    static const char *names [] = { "?", "primary", "backup", "active", "passive" };
    return state >= OVH_HA_PRIMARY && state <= OVH_HA_PASSIVE? names [state]: "?";
}

static ovh_hafsm_result_t
s_to (ovh_hafsm_t *self, ovh_ha_state_t state, const char *text, const char **why)
{
    self->state = state;
    *why = text;
    return OVH_HAFSM_CHANGED;
}

static ovh_hafsm_result_t
s_refuse (const char *text, const char **why)
{
    *why = text;
    return OVH_HAFSM_REFUSED;
}

ovh_hafsm_result_t
ovh_hafsm_step (ovh_hafsm_t *self, ovh_ha_event_t event, int64_t now, const char **why)
{
    *why = "";
    bool peer_gone = now >= self->peer_expiry;
    switch (self->state) {
        case OVH_HA_PRIMARY:
            //  Starting primary: whoever of the pair is already active
            //  stays so; a primary alone serves once the peer had its chance
            if (event == OVH_HA_PEER_BACKUP)
                return s_to (self, OVH_HA_ACTIVE, "connected to the backup (standby): active", why);
            if (event == OVH_HA_PEER_ACTIVE)
                return s_to (self, OVH_HA_PASSIVE, "connected to the backup (active): standby",
                             why);
            if (event == OVH_HA_DEMAND && peer_gone)
                return s_to (self, OVH_HA_ACTIVE, "no peer heard within the timeout, events "
                             "coming in: active", why);
            break;
        case OVH_HA_BACKUP:
            //  A backup never serves first: only after it has seen an
            //  active primary go silent
            if (event == OVH_HA_PEER_ACTIVE)
                return s_to (self, OVH_HA_PASSIVE, "connected to the primary (active): standby",
                             why);
            if (event == OVH_HA_DEMAND)
                return s_refuse ("a backup does not deliver before it has seen an active "
                                 "primary", why);
            break;
        case OVH_HA_ACTIVE:
            //  bstar.c aborts on two actives. A bridge must not just stop,
            //  so the link's healing ends the split brain instead: the
            //  backup steps down, the primary stays (docs/ha.md)
            if (event == OVH_HA_PEER_ACTIVE) {
                if (self->primary)
                    return s_refuse ("the backup is active too (split brain): staying active, "
                                     "the backup steps down", why);
                return s_to (self, OVH_HA_PASSIVE, "the primary is active too (split brain "
                             "over): stepping down to standby", why);
            }
            break;
        case OVH_HA_PASSIVE:
            if (event == OVH_HA_PEER_PRIMARY)
                return s_to (self, OVH_HA_ACTIVE, "the primary (standby) restarted: active", why);
            if (event == OVH_HA_PEER_BACKUP)
                return s_to (self, OVH_HA_ACTIVE, "the backup (standby) restarted: active", why);
            if (event == OVH_HA_PEER_PASSIVE) {
                //  Both standby: bstar.c treats it as fatal. Nobody would
                //  deliver; the primary takes the lead
                if (self->primary)
                    return s_to (self, OVH_HA_ACTIVE, "both standby: the primary takes over",
                                 why);
                return s_refuse ("both standby: waiting for the primary to take over", why);
            }
            if (event == OVH_HA_DEMAND) {
                if (peer_gone)
                    return s_to (self, OVH_HA_ACTIVE, "peer silent for the timeout, events "
                                 "coming in: taking over (failover)", why);
                return s_refuse ("", why);      //  the normal standby case: no line
            }
            break;
    }
    return OVH_HAFSM_SAME;
}
