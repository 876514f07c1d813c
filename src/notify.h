/*
 * notify: readiness, reloads and stops told to systemd (Type=notify), in
 * the protocol of sd_notify(3): one datagram to the unix socket that
 * NOTIFY_SOCKET names. Without NOTIFY_SOCKET it does nothing. It owns the
 * socket's address; what to say and when is the pool's.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

/* Takes NOTIFY_SOCKET out of the environment (the workers must not speak
 * for the service) and keeps it for notify. Call once, at start. */
void notify_init(void);
/* Sends state, such as "READY=1" or "RELOADING=1\nMONOTONIC_USEC=...". */
void notify(const char *state);
/* "RELOADING=1" with the MONOTONIC_USEC that systemd 253 and later want. */
void notify_reloading(void);

#endif
