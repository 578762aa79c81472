/* C that bindgen cannot stand in for: see hurd-sys-decls.h.  */

#include <mach.h>
#include "hurd-sys-decls.h"

mach_msg_return_t
hurd_sys_msg_server_timeout (boolean_t (*demux) (mach_msg_header_t *, mach_msg_header_t *),
			     mach_msg_size_t max_size, mach_port_t rcv_name,
			     mach_msg_option_t option, mach_msg_timeout_t timeout)
{
  return mach_msg_server_timeout (demux, max_size, rcv_name, option, timeout);
}
