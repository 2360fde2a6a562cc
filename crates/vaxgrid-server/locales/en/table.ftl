## Vaccination table
nav-table = Vaccination table
table-title = Vaccination table
table-to-board = Observation board
table-queue = Today's queue
table-queue-empty = Nobody is booked or has come in today yet.
table-queue-waiting = { $count ->
    [one] { $count } person waiting or at the table
   *[other] { $count } people waiting or at the table
}
table-walk-in = Walk-in
table-state-booked = Booked
table-state-arrived = Arrived
table-state-checked-in = Checked in
table-state-screened = Screened
table-state-consented = Consented
table-state-in-observation = Vaccinated, in observation
table-state-done = Done
table-state-deferred = Deferred
table-state-refused = Refused
table-state-no-show = Did not come
table-state-cancelled = Cancelled
