/** The deliberate stalls' timing, shared by the game, its tests and its benchmark. */

/** how long a deliberate stall lasts, ms */
export const HITCH_MS = 150;
/** with `?hitches=N`: the first stall this long after the start, ms */
export const FIRST_HITCH_MS = 1500;
/** …and the next ones this far apart, ms */
export const HITCH_EVERY_MS = 2500;
