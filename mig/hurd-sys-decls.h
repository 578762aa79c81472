/* C declarations of what hurd-sys's Rust side gives the MIG stubs: the
   object type the mutations (made by build.rs) turn ports into, the
   functions doing it, and the hook that logs an unimplemented routine.  */

#ifndef HURD_SYS_DECLS_H
#define HURD_SYS_DECLS_H

#include <mach/port.h>
#include <mach/message.h>

/* Opaque to C: a port served here, with what it stands for (a protid, a
   translator's control, ...; hurd-server's port classes).  */
typedef struct hurd_sys_object *hurd_sys_object_t;

hurd_sys_object_t hurd_sys_object_from_port (mach_port_t port);
hurd_sys_object_t hurd_sys_object_from_payload (unsigned long payload);
void hurd_sys_object_release (hurd_sys_object_t object);

/* Every served interface's demultiplexer in turn (demux.c, made by
   build.rs): handles the request IN if one of them knows its message ID,
   writing the reply to OUT, and returns whether one did.  */
boolean_t hurd_sys_demux (mach_msg_header_t *in, mach_msg_header_t *out);

/* The C library declares mach_msg_destroy as the second name of one
   declaration, which bindgen does not see: this calls it
   (hurd-sys-glue.c).  It gives back every right and all out-of-line
   memory MSG holds.  */
void hurd_sys_msg_destroy (mach_msg_header_t *msg);

/* Called by the default (weak) definition of every server routine that
   the Rust side does not define; NAME is the routine's name.  */
void hurd_sys_unimplemented (const char *name);

#endif
