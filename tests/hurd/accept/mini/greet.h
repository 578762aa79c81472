/* The acceptance test's small package: one greeting, printed COUNT times. */
void greet (int count);
