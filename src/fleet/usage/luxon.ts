// luxon as the usage verbs use it. Its default locale is the system's, which luxon asks Intl for
// on the first DateTime it builds (loading ICU, ~25-35 ms of a run's start); sayclaw formats
// dates only as numbers (ISO, yyyy-MM-dd), so the locale is fixed and Intl is touched only by
// an IANA zone other than UTC.
import { Settings } from 'luxon';

Settings.defaultLocale = 'en-US';

export { DateTime, IANAZone } from 'luxon';
