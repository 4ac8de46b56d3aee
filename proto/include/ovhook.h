/*  ovhook.h - libovhook: the ovhook event bus protocol (version 1).

    Session components publish OpenVidu-style events on a ZeroMQ bus; receivers
    turn them into the JSON body that OpenVidu Server would POST to a webhook.
    See proto/PROTOCOL.md for the wire format.                               */

#ifndef OVHOOK_H_INCLUDED
#define OVHOOK_H_INCLUDED

#define OVHOOK_VERSION_MAJOR 0
#define OVHOOK_VERSION_MINOR 1
#define OVHOOK_VERSION_PATCH 0
#define OVHOOK_VERSION "0.1.0"

//  The protocol version this library speaks
#define OVH_PROTOCOL_VERSION 1

//  Where publishers connect and the bridge binds unless told otherwise
#define OVH_BUS_ENDPOINT     "tcp://127.0.0.1:5560"
//  Default limits of the protocol
#define OVH_MAX_FRAME_DEFAULT (1024 * 1024)
#define OVH_MAX_DEPTH        32

#include "ovh_error.h"
#include "ovh_catalog.h"
#include "ovh_body.h"
#include "ovh_translator.h"
#include "ovh_webhook.h"
#include "ovh_publisher.h"
#include "ovh_seqtrack.h"
#include "ovh_bus.h"
#include "ovh_units.h"
#include "ovh_jsontext.h"

#endif
