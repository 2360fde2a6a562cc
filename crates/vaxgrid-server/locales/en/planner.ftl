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

## Planner: campaign planning
planner-nav-campaigns = Campaigns
planner-campaigns-title = Campaign planning
planner-campaigns-list = Campaigns over my areas
planner-campaigns-none = No campaign yet.
planner-campaign-new = Plan a new campaign
planner-campaign-create = Create the campaign
planner-campaign-target = { $pct }% of the eligible by { $date }
planner-campaign-waves = { $count ->
    [one] 1 wave
   *[other] { $count } waves
}
planner-everyone = everyone of age
planner-years = { $count ->
    [one] 1 year
   *[other] { $count } years
}
planner-f-name = Name
planner-f-disease = Disease
planner-f-area = Area
planner-f-area-code = Area code (the campaign covers this area)
planner-f-products = Vaccines
planner-f-groups = Priority groups
planner-f-groups-order = Priority groups, in order (codes separated by commas; empty: everyone)
planner-groups-hint = Codes: { $codes }
planner-f-target = Coverage target
planner-f-target-percent = Coverage target (% of the eligible population)
planner-f-target-date = Target date
planner-f-min-age = Minimum age (years)
planner-waves = Waves
planner-waves-none = No wave yet.
planner-wave-new = Add a wave
planner-wave-add = Add the wave
planner-f-wave-name = Wave
planner-f-dates = Dates
planner-f-eligible = Eligible
planner-f-starts-on = First day
planner-f-ends-on = Last day
planner-f-eligible-groups = Eligible groups (codes separated by commas; empty: everyone of age)
planner-tree = Target by area
planner-tree-trail = Areas of the target tree
planner-tree-area = Area
planner-tree-target = target
planner-tree-eligible = Eligible
planner-tree-part = Part
planner-tree-fix = Fixed by hand
planner-tree-fix-label = People fixed by hand for
planner-tree-fixed = fixed
planner-tree-reached = Reached
planner-tree-sum = Sum of the parts
planner-tree-help = Type a number to fix an area's part by hand; leave it empty and the rest of the target is split among the others in proportion to their eligible population. The parts always add up to the target.
planner-tree-split = Split the target
planner-tree-leaf = This area has no areas under it to split its target to.
planner-tree-dashboard = This area's coverage dashboard
planner-no-part = none yet (split the area above first)
planner-err-other = This could not be saved: check the form.
planner-err-campaign-form = This could not be saved: check the form.
planner-err-campaign-id = This form was already sent in another way: open the campaign list and plan again.
planner-err-campaign-name = Give a name of 1 to 200 characters.
planner-err-campaign-disease = Give the disease, 1 to 100 characters.
planner-err-campaign-area_code = No such area in your areas: give the code of an area you plan for.
planner-err-campaign-products = Choose 1 to 20 vaccines, each once.
planner-err-campaign-priority_groups = List each priority group once, by its code.
planner-err-campaign-target_percent = Give a percentage from 0 to 100, with at most one decimal.
planner-err-campaign-target_date = Give a date from today to 5 years ahead.
planner-err-campaign-min_age_years = Give an age from 0 to 120 years.
planner-err-campaign-history_reason = Only an administrator enters a campaign already run.
planner-err-wave-form = This wave could not be added: check the form.
planner-err-wave-id = This campaign cannot take more waves, or you do not plan for its whole area.
planner-err-wave-name = Give the wave a name of 1 to 100 characters.
planner-err-wave-starts_on = Give the first day (at the earliest 31 days before the campaign was entered).
planner-err-wave-ends_on = Give a last day not before the first day and not after the campaign's target date.
planner-err-wave-eligible_groups = Use only the campaign's priority groups, each once.
planner-err-split-fixed = The parts fixed by hand must be whole numbers, together no more than the target.
planner-err-split-area = This area's target cannot be split here.

## Planner: sites, zones, sessions, staff
planner-nav-sites = Sites
planner-sites-title = Vaccination sites
planner-sites-none = No site in your areas yet.
planner-next-page = Next page
planner-site = Site
planner-site-kind = Kind
planner-site-stations = Stations
planner-site-capacity = Doses a day
planner-site-kind-commune_health_station = Commune health station
planner-site-kind-hospital = Hospital
planner-site-kind-temporary_site = Temporary site
planner-site-kind-mobile_team = Mobile team
planner-zones = Functional zones
planner-zones-saved = The zones are saved.
planner-zones-help = In the order people pass them. Vaccination, observation and treatment of reactions are required; leave a row empty to drop it.
planner-zones-save = Save the zones
planner-zone-kind = Zone
planner-zone-name = Name
planner-zone-places = Places
planner-zone-temperature_check = Temperature check
planner-zone-registration = Registration
planner-zone-screening = Screening
planner-zone-vaccination = Vaccination
planner-zone-observation = Observation
planner-zone-treatment = Treatment of reactions
planner-sessions = Sessions from today
planner-sessions-none = No session planned.
planner-slots-of = Slots of { $day }, { $hours }
planner-slot-time = Time
planner-slot-capacity = Places
planner-slot-booked = Booked
planner-slot-free = Free
planner-session-new = Open a session
planner-session-day = Day
planner-session-opens = Opens at
planner-session-closes = Closes at
planner-session-rate = People per station per hour
planner-session-slot = Slot length (minutes)
planner-session-village = Village (a mobile team's session; optional)
planner-session-open = Open the session
planner-staff = Staff and vaccination certificates
planner-staff-none = Nobody holds a role at this site.
planner-staff-name = Name
planner-staff-roles = Roles here
planner-staff-cert = Certificate
planner-cert-until = certified until { $date }
planner-not-certified = not yet certified
planner-exam-failed = (exam failed)
planner-certified-count = { $count ->
    [one] 1 certified
   *[other] { $count } certified
}
planner-not-certified-count = { $count } not yet certified
planner-err-zones-zones = Give each zone once, with vaccination, observation and treatment of reactions, each named, with 1 to 10,000 places.
planner-err-zones-form = The zones could not be saved: check the form.
planner-err-session-id = This form was already sent in another way: reload the page.
planner-err-session-site_code = This site is not in your areas.
planner-err-session-day = Give a day from today on, with no other session of the site at those hours.
planner-err-session-opens = Give the opening time as HH:MM.
planner-err-session-closes = Give a closing time (HH:MM) after the opening.
planner-err-session-stations = Give at least 1 station.
planner-err-session-per_station_per_hour = Give how many people a station serves in an hour (at least 1).
planner-err-session-slot_minutes = Give a slot length in minutes (at least 1).
planner-err-session-village_code = Give the code of a village in the site's area, or leave it empty.
planner-err-session-form = The session could not be opened: check the form.
planner-wave-serious = Serious adverse events
planner-wave-deaths = Deaths
