/* C that bindgen cannot stand in for: see hurd-sys-decls.h.  */

#include <mach.h>
#include "hurd-sys-decls.h"

void
hurd_sys_msg_destroy (mach_msg_header_t *msg)
{
  mach_msg_destroy (msg);
}
