/* C declarations of what hurd-sys's Rust side gives the MIG stubs: the
   object types the mutations (mutations.h) turn ports into, the functions
   doing it, and the hook that logs an unimplemented routine.  */

#ifndef HURD_SYS_DECLS_H
#define HURD_SYS_DECLS_H

#include <mach/port.h>
#include <mach/message.h>

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

/* The demultiplexers MIG generates for the interfaces we serve (their
   generated headers declare only the routine tables): each handles the
   request IN if its message ID is one of its interface's, writing the
   reply to OUT, and returns whether it did.  */
boolean_t io_server (mach_msg_header_t *in, mach_msg_header_t *out);
boolean_t fs_server (mach_msg_header_t *in, mach_msg_header_t *out);
boolean_t fsys_server (mach_msg_header_t *in, mach_msg_header_t *out);
boolean_t notify_server (mach_msg_header_t *in, mach_msg_header_t *out);
boolean_t interrupt_server (mach_msg_header_t *in, mach_msg_header_t *out);

/* The C library declares mach_msg_server_timeout as the second name of
   one declaration, which bindgen does not see: this calls it
   (hurd-sys-glue.c).  */
mach_msg_return_t hurd_sys_msg_server_timeout (boolean_t (*demux) (mach_msg_header_t *, mach_msg_header_t *),
					       mach_msg_size_t max_size, mach_port_t rcv_name,
					       mach_msg_option_t option, mach_msg_timeout_t timeout);

/* Called by the default (weak) definition of every server routine that
   the Rust side does not define; NAME is the routine's name.  */
void hurd_sys_unimplemented (const char *name);

#endif
