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
registry-id-none = No identity document (follow-up)
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
registry-correct-title = Correct a dose
registry-correct-dose = The dose entered in error
registry-correct-reason = Why it is wrong
registry-correct-replacement = The dose actually given (if any)
registry-correct-replacement-hint = Leave the lot and date empty when no dose was given.
registry-correct-reissue = Re-issue the certificate from the corrected history
registry-correct-submit = Record the correction
registry-form-has-errors = The correction is not complete: see the field marked below.
registry-error-reason = Give the reason (1 to 500 characters).
registry-error-product = Give a known vaccine code.
registry-error-lot = Give a lot number of this vaccine usable at the site.
registry-error-site = Give the code of a site where you work.
registry-error-date = Give the date of the dose (day/month/year).
registry-error-lot-product = This lot belongs to another vaccine.
registry-error-lot-expired = This lot had expired on that date.
registry-error-lot-released = This lot is not released for use.
registry-error-date-future = The date is after today.
registry-error-date-birth = The date is before the person's birth.
registry-error-interval = Too soon after the previous dose for this vaccine.
registry-error-too-young = The person is too young for this vaccine.

## Duplicate review
registry-dup-nav = Duplicates
registry-dup-title = Duplicate review
registry-dup-hint = Records that look like the same person: the same ID number under another type or province, or the same name, birth date and commune. Compare them, then merge or say they are different people.
registry-dup-find = Look for new duplicates
registry-dup-found = { $count ->
    [0] No new pairs found.
    [one] One new pair found.
   *[other] { $count } new pairs found.
}
registry-dup-pairs = Pairs to review
registry-dup-none = No pairs to review.
registry-dup-same-id = Same ID number
registry-dup-same-name = Same name, birth date and commune
registry-previous-page = Previous page
registry-dup-pair-title = Compare two records
registry-dup-back = Back to the pairs
registry-dup-dismissed-by = Decided as different people by { $name }
registry-dup-survivor = Kept
registry-dup-duplicate = Merged into it
registry-dup-swap = Keep the other record instead
registry-dup-preview = Dose history after the merge
registry-dup-merge = Merge
registry-dup-merge-hint = The second record's doses, appointments and certificates move to the first; the second record stays, marked as merged. Merging cannot be undone.
registry-dup-reason = Reason
registry-dup-merge-submit = Merge these records
registry-dup-dismiss = Different people
registry-dup-dismiss-submit = They are different people
registry-dup-merge-reason-needed = Say why these records are the same person.
registry-dup-dismiss-reason-needed = Say why these are different people.
