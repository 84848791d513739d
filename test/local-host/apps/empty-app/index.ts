/** Sample app that registers nothing (the host must refuse it). */
export const nothing = 0;
