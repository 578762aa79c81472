#include <stdio.h>
#include "greet.h"

void
greet (int count)
{
  for (int i = 0; i < count; i++)
    puts ("Hello from the build, PID namespace or not.");
}
