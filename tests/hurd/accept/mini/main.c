#include <stdlib.h>
#include <string.h>
#include "greet.h"

int
main (int argc, char **argv)
{
  int count = 1;
  if (argc == 3 && strcmp (argv[1], "--count") == 0)
    count = atoi (argv[2]);
  greet (count);
  return 0;
}
