{#- Waves of mart_district_safety with exactly one suppressed district: the wave's total of
    respondents is public, so a lone suppressed district would be recovered by subtraction
    (its complementary suppression is missing). Expected: no row. -#}
select
    wave,
    count(*) filter (where is_suppressed) as suppressed_districts
from {{ ref('mart_district_safety') }}
group by wave
having count(*) filter (where is_suppressed) = 1
