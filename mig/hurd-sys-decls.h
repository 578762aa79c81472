/* C declarations of what hurd-sys's Rust side gives the MIG stubs: the
   object types the mutations (mutations.h) turn ports into, the functions
   doing it, and the hook that logs an unimplemented routine.  */

#ifndef HURD_SYS_DECLS_H
#define HURD_SYS_DECLS_H

#include <mach/port.h>

/* Opaque to C: a protid (one client's view of one open node) and a
   control (the translator itself, as fsys requests address it).  */
typedef struct hurd_sys_protid *hurd_sys_protid_t;
typedef struct hurd_sys_control *hurd_sys_control_t;

hurd_sys_protid_t hurd_sys_protid_from_port (mach_port_t port);
hurd_sys_protid_t hurd_sys_protid_from_payload (unsigned long payload);
void hurd_sys_protid_release (hurd_sys_protid_t protid);

hurd_sys_control_t hurd_sys_control_from_port (mach_port_t port);
hurd_sys_control_t hurd_sys_control_from_payload (unsigned long payload);
void hurd_sys_control_release (hurd_sys_control_t control);

/* Called by the default (weak) definition of every server routine that
   the Rust side does not define; NAME is the routine's name.  */
void hurd_sys_unimplemented (const char *name);

#endif
