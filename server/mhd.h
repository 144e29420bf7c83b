/* libmicrohttpd, loaded when `ckptdb serve` starts rather than when ckptdb starts: linked, its
 * GnuTLS chain (nine libraries) cost every command ~160 page faults and ~8 ms of start-up on the
 * development machine, a sixth of a `list`. The functions http.c calls are reached through one
 * table filled by ckpt_mhd_load; the macros below keep http.c written against the plain API. */
#ifndef CKPT_SERVER_MHD_H
#define CKPT_SERVER_MHD_H

#include <microhttpd.h>

#include "ckptdb/error.h"

struct ckpt_mhd {
    struct MHD_Daemon *(*start_daemon)(unsigned int flags, uint16_t port,
                                       MHD_AcceptPolicyCallback apc, void *apc_cls,
                                       MHD_AccessHandlerCallback dh, void *dh_cls, ...);
    void (*stop_daemon)(struct MHD_Daemon *daemon);
    const union MHD_DaemonInfo *(*get_daemon_info)(struct MHD_Daemon *daemon,
                                                   enum MHD_DaemonInfoType info_type, ...);
    struct MHD_Response *(*create_response_from_buffer)(size_t size, void *buffer,
                                                        enum MHD_ResponseMemoryMode mode);
    struct MHD_Response *(*create_response_from_fd64)(uint64_t size, int fd);
    enum MHD_Result (*add_response_header)(struct MHD_Response *response, const char *header,
                                           const char *content);
    enum MHD_Result (*queue_response)(struct MHD_Connection *connection, unsigned int status_code,
                                      struct MHD_Response *response);
    void (*destroy_response)(struct MHD_Response *response);
    const char *(*lookup_connection_value)(struct MHD_Connection *connection,
                                           enum MHD_ValueKind kind, const char *key);
};

extern struct ckpt_mhd ckpt_mhd;

/* Load the library (once; later calls return at once). CKPT_E_UNSUPPORTED naming the library
 * when it is not installed or lacks a function. */
int ckpt_mhd_load(struct ckpt_error *err);

#define MHD_start_daemon ckpt_mhd.start_daemon
#define MHD_stop_daemon ckpt_mhd.stop_daemon
#define MHD_get_daemon_info ckpt_mhd.get_daemon_info
#define MHD_create_response_from_buffer ckpt_mhd.create_response_from_buffer
#define MHD_create_response_from_fd64 ckpt_mhd.create_response_from_fd64
#define MHD_add_response_header ckpt_mhd.add_response_header
#define MHD_queue_response ckpt_mhd.queue_response
#define MHD_destroy_response ckpt_mhd.destroy_response
#define MHD_lookup_connection_value ckpt_mhd.lookup_connection_value

#endif
