/**
 * Whether this tab is placing or in a call, for code that must not load the call stack to ask
 * (the idle lock in the root layout, P46). The call controller keeps it current.
 */
let inCall = false;

export function callInProgress(): boolean {
  return inCall;
}

export function setCallInProgress(busy: boolean): void {
  inCall = busy;
}
