/**
 * Emoji table: objects, symbols, flags (Unicode CLDR short names, keywords chosen for search).
 * One entry a line: `<emoji> <name> | <keywords>`; a country flag is `flag <ISO 3166 code> <name>`
 * and becomes its pair of regional indicators in emoji-data.ts. Data only.
 */
export const OBJECTS = `
⌚ watch | time
📱 mobile phone | phone cell
💻 laptop | computer
⌨️ keyboard | typing
🖥️ desktop computer | computer
🖨️ printer | print
🖱️ computer mouse | mouse
💾 floppy disk | save
📷 camera | photo
📸 camera with flash | photo
🎥 movie camera | film video
📺 television | tv
📻 radio | radio
📞 telephone receiver | phone call
☎️ telephone | phone
🔋 battery | battery power
🔌 electric plug | plug power
💡 light bulb | idea
🔦 flashlight | torch light
🕯️ candle | light
💸 money with wings | money spend
💵 dollar banknote | money cash
💰 money bag | money rich
💳 credit card | card pay
💎 gem stone | diamond jewel
🔧 wrench | tool fix
🔨 hammer | tool
🛠️ hammer and wrench | tools fix
⚙️ gear | settings cog
🔑 key | password lock
🗝️ old key | key
🔒 locked | lock secure private
🔓 unlocked | unlock open
🚪 door | door
🛏️ bed | sleep
🛒 shopping cart | shop cart
🎒 backpack | school bag
👓 glasses | eyeglasses
👕 t-shirt | shirt clothes
👗 dress | clothes
👟 running shoe | sneaker shoe
👑 crown | king queen royal
💍 ring | wedding engagement
☂️ umbrella | rain
✉️ envelope | mail letter email
📦 package | box parcel delivery
📝 memo | note write
📎 paperclip | attach
📌 pushpin | pin
📅 calendar | date
📚 books | book read library
📖 open book | read
✏️ pencil | write
🖊️ pen | write
✂️ scissors | cut
🔍 magnifying glass tilted left | search find
🔔 bell | notification ring
📣 megaphone | announce
💊 pill | medicine drug
🩹 adhesive bandage | plaster hurt
🧸 teddy bear | toy
🎀 ribbon | bow gift
`;

export const SYMBOLS = `
✅ check mark button | yes done ok
☑️ check box with check | done
✔️ check mark | yes done
❌ cross mark | no wrong
❎ cross mark button | no
➕ plus | add
➖ minus | subtract
➗ divide | division
❓ red question mark | question
❔ white question mark | question
❗ red exclamation mark | exclamation important
‼️ double exclamation mark | exclamation
⁉️ exclamation question mark | interrobang
⚠️ warning | caution alert
🚫 prohibited | forbidden no
⛔ no entry | stop forbidden
♻️ recycling symbol | recycle
🔴 red circle | red dot
🟠 orange circle | orange dot
🟡 yellow circle | yellow dot
🟢 green circle | green dot
🔵 blue circle | blue dot
🟣 purple circle | purple dot
⚫ black circle | black dot
⚪ white circle | white dot
🟥 red square | red
🟩 green square | green
🟦 blue square | blue
🔺 red triangle pointed up | up
🔻 red triangle pointed down | down
🔶 large orange diamond | orange
➡️ right arrow | next
⬅️ left arrow | back
⬆️ up arrow | up
⬇️ down arrow | down
↩️ right arrow curving left | return reply
🔄 counterclockwise arrows button | refresh repeat
🔁 repeat button | repeat loop
▶️ play button | play
⏸️ pause button | pause
⏹️ stop button | stop
🔇 muted speaker | mute silent
🔊 speaker high volume | loud sound
🔕 bell with slash | mute silent
🆗 OK button | ok
🆕 NEW button | new
🆒 COOL button | cool
🆘 SOS button | help emergency
©️ copyright | copyright
®️ registered | registered
™️ trade mark | trademark
#️⃣ keycap: # | hash number
*️⃣ keycap: * | asterisk star
0️⃣ keycap: 0 | zero number
1️⃣ keycap: 1 | one number
2️⃣ keycap: 2 | two number
3️⃣ keycap: 3 | three number
4️⃣ keycap: 4 | four number
5️⃣ keycap: 5 | five number
6️⃣ keycap: 6 | six number
7️⃣ keycap: 7 | seven number
8️⃣ keycap: 8 | eight number
9️⃣ keycap: 9 | nine number
🔟 keycap: 10 | ten number
♾️ infinity | forever
💲 heavy dollar sign | money
☮️ peace symbol | peace
☯️ yin yang | balance
`;

export const FLAGS = `
🏁 chequered flag | race finish
🚩 triangular flag | red flag
🏳️ white flag | surrender
🏴 black flag | flag
🏳️‍🌈 rainbow flag | pride lgbt
🏴‍☠️ pirate flag | jolly roger
flag UN United Nations
flag EU European Union
flag AR Argentina
flag AU Australia
flag AT Austria
flag BE Belgium
flag BR Brazil
flag CA Canada
flag CL Chile
flag CN China | prc
flag CO Colombia
flag DK Denmark
flag EG Egypt
flag FI Finland
flag FR France
flag DE Germany | deutschland
flag GR Greece
flag IN India
flag ID Indonesia
flag IE Ireland
flag IL Israel
flag IT Italy
flag JP Japan | nippon
flag KE Kenya
flag MX Mexico
flag NL Netherlands | holland
flag NZ New Zealand
flag NG Nigeria
flag NO Norway
flag PH Philippines
flag PL Poland
flag PT Portugal
flag SA Saudi Arabia
flag ZA South Africa
flag KR South Korea | korea
flag ES Spain | espana
flag SE Sweden
flag CH Switzerland | swiss
flag TH Thailand
flag TR Türkiye | turkey
flag UA Ukraine
flag GB United Kingdom | uk britain england
flag US United States | usa america
flag VN Vietnam
`;
