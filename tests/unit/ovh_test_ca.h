/*  ovh_test_ca.h - a CA certificate for the tests of the configuration:
    the CA file must hold one that OpenSSL loads.                           */

#ifndef OVH_TEST_CA_H_INCLUDED
#define OVH_TEST_CA_H_INCLUDED

//  A real CA certificate (P-256, self-signed, valid until 2126): the CA
//  file must hold one that OpenSSL loads
#define S_CA_PEM "-----BEGIN CERTIFICATE-----\n\
MIIBiTCCAS+gAwIBAgIUHBhlcWZO/bL0QACLJ7JaTorluvUwCgYIKoZIzj0EAwIw\n\
GTEXMBUGA1UEAwwOb3Zob29rLXRlc3QtY2EwIBcNMjYxMjA1MDg1NDI4WhgPMjEy\n\
NjExMTEwODU0MjhaMBkxFzAVBgNVBAMMDm92aG9vay10ZXN0LWNhMFkwEwYHKoZI\n\
zj0CAQYIKoZIzj0DAQcDQgAEQpFOt4qz2wYSYzU/eY7vgZUsuTBIFVVut1T7rV6f\n\
NEk+llidWLoQZ2153MWeOJMw8FHnDLCXQ1VCKzaM+gu2YqNTMFEwHQYDVR0OBBYE\n\
FCFKSlOXUKOTRl4GjRjjUhqP2nEoMB8GA1UdIwQYMBaAFCFKSlOXUKOTRl4GjRjj\n\
UhqP2nEoMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgCZiao1Na\n\
vQHSETsaVcpLVJUtUn0ZznacI3a3qc7u3DQCIQD1YMjOPUfQQcdBvDQsacTt+c8z\n\
zZPek/G3mMmL/ib2qQ==\n\
-----END CERTIFICATE-----\n"

#endif
