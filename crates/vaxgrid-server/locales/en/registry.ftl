## Registry: search, a person's record, corrections, duplicates
registry-nav = Registry
registry-title = Population registry
registry-search = Find a person
registry-search-hint = Fill in one or more fields. Names are found with or without diacritics, by the start of any word.
registry-id-number = ID number
registry-phone = Phone
registry-name = Name
registry-search-submit = Search
registry-search-none = Nobody in your areas matches this search.
registry-error-name-letters = A name must contain letters.
registry-results = People found
registry-pages = Pages of results
registry-first-page = First page
registry-next-page = Next page
registry-back-to-search = Back to the search
registry-merged-notice = This record was merged into another record as a duplicate.
registry-merged-open = Open the record it was merged into
registry-details = Personal details
registry-id-cccd = Citizen ID card (CCCD)
registry-id-cmnd = Old ID card (CMND)
registry-id-cn-resident = Resident ID card (China)
registry-id-passport = Passport
registry-birth-date = Date of birth
registry-sex = Sex
registry-sex-male = Male
registry-sex-female = Female
registry-sex-other = Other
registry-home-area = Home area
registry-occupation = Occupation
registry-groups = Priority groups
registry-doses = Doses
registry-summary-doses = { $count ->
    [one] { $count } valid dose; the series is not complete
   *[other] { $count } valid doses; the series is not complete
}
registry-summary-complete = { $count ->
    [one] { $count } valid dose; the series is complete
   *[other] { $count } valid doses; the series is complete
}
registry-next-due = next dose due from
registry-no-doses = No dose recorded.
registry-col-number = Dose
registry-col-date = Date
registry-col-product = Vaccine
registry-col-lot = Lot
registry-col-site = Site
registry-col-status = Status
registry-dose-valid = Valid
registry-dose-historical = Given elsewhere
registry-dose-entered-in-error = Entered in error
registry-dose-voided = { $reason } ({ $author }, { $date })
registry-correct = Correct
registry-certificates = Certificates
registry-no-certificates = No certificate issued.
registry-issued = issued
registry-cert-valid = Valid
registry-cert-revoked = Revoked
registry-appointments = Appointments
registry-no-appointments = No appointment.
registry-appt-booked = booked
registry-appt-cancelled = cancelled
registry-appt-no-show = did not come
registry-appt-rescheduled = moved
registry-appt-other = other
registry-possible-duplicates = Possible duplicates
