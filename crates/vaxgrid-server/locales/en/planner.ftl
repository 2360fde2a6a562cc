## Planner: dashboard
planner-nav = Dashboard
planner-title = Coverage dashboard
planner-title-area = Coverage: { $area }
planner-all-areas = All my areas
planner-crumbs = Area levels
planner-campaign = Campaign
planner-show = Show
planner-wave-note = Lists are those of { $wave } ({ $from } – { $to }).
planner-fig-population = Residents
planner-fig-one = With ≥1 dose
planner-fig-done = Series completed
planner-fig-not-yet = Not yet vaccinated
planner-fig-doses = Doses given
planner-fig-ae-rate = Adverse events per 100,000 doses
planner-print-not-yet = Print the list of those not yet vaccinated
planner-level-top = My areas
planner-level-districts = Districts
planner-level-communes = Communes
planner-level-villages = Villages
planner-level-none = Areas below
planner-no-children = No areas below this one: open the list above for its residents.
planner-col-area = Area
planner-col-population = Residents
planner-col-one = ≥1 dose
planner-col-done = Completed
planner-col-not-yet = Not yet
planner-col-dose-1 = Dose 1
planner-col-dose-2 = Dose 2
planner-col-later = Dose 3+
planner-col-ae = Adverse events
planner-col-ae-rate = per 100,000 doses
planner-col-group = Priority group
planner-total = Total
planner-by-group = Coverage by priority group
planner-groups-aria = Coverage by priority group
planner-no-groups = No priority groups registered here.
planner-per-day = Doses per day, daily target and session capacity
planner-legend-doses = Doses given
planner-legend-target = Daily target
planner-legend-capacity = Session capacity
planner-no-target = No daily target: this area has no part of a campaign target yet.
planner-ae-heading = Adverse events per 100,000 doses
planner-rate-aria = Adverse events per 100,000 doses by area
planner-rate-legend = adverse events reported per 100,000 doses given
planner-rate-bar = { $events ->
    [one] 1 adverse event
   *[other] { $events } adverse events
} in { $doses ->
    [one] 1 dose
   *[other] { $doses } doses
}
planner-group-health_worker = Health workers
planner-group-frontline = Front-line anti-epidemic forces
planner-group-essential_service = Essential services (port, cold chain, quarantine sites)
planner-group-border_resident = Border residents
planner-group-elderly_65 = Aged 65 and over
planner-group-chronic_disease = People with chronic disease
planner-group-teacher = Teachers
planner-group-general = General population
