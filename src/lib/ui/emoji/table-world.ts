/**
 * Emoji table: animals & nature, food & drink, activities, travel & places (Unicode CLDR short
 * names, keywords chosen for search). One entry a line: `<emoji> <name> | <keywords>`, plus
 * ` | tones` where the emoji takes a skin tone (as in table-faces.ts). Data only; parsed in
 * emoji-data.ts.
 */
export const NATURE = `
🐶 dog face | dog puppy pet
🐱 cat face | cat kitten pet
🐭 mouse face | mouse
🐹 hamster | pet
🐰 rabbit face | bunny
🦊 fox | fox
🐻 bear | bear
🐼 panda | panda
🐨 koala | koala
🐯 tiger face | tiger
🦁 lion | lion
🐮 cow face | cow
🐷 pig face | pig
🐸 frog | frog
🐵 monkey face | monkey
🐔 chicken | chicken
🐧 penguin | penguin
🐦 bird | bird
🐤 baby chick | chick
🦆 duck | duck
🦅 eagle | eagle
🦉 owl | owl
🦇 bat | bat
🐺 wolf | wolf
🐗 boar | boar
🐴 horse face | horse
🦄 unicorn | unicorn magic
🐝 honeybee | bee
🐛 bug | bug insect
🦋 butterfly | butterfly
🐌 snail | slow
🐞 lady beetle | ladybug
🐜 ant | ant
🕷️ spider | spider
🐢 turtle | turtle slow
🐍 snake | snake
🦖 T-Rex | dinosaur
🐙 octopus | octopus
🦀 crab | crab
🐠 tropical fish | fish
🐬 dolphin | dolphin
🐳 spouting whale | whale
🦈 shark | shark
🐘 elephant | elephant
🦒 giraffe | giraffe
🐕 dog | dog
🐈 cat | cat
🐾 paw prints | paws
💐 bouquet | flowers
🌸 cherry blossom | flower spring
🌹 rose | flower love
🌻 sunflower | flower
🌷 tulip | flower
🌱 seedling | plant grow
🌲 evergreen tree | tree
🌴 palm tree | tree beach
🌵 cactus | desert
🍀 four leaf clover | luck
🍁 maple leaf | autumn fall
🍂 fallen leaf | autumn
🌍 globe showing Europe-Africa | earth world
🌙 crescent moon | moon night
⭐ star | star
🌟 glowing star | star shine
✨ sparkles | sparkle shiny magic
⚡ high voltage | lightning zap
🔥 fire | hot lit flame
🌈 rainbow | rainbow
☀️ sun | sunny weather
⛅ sun behind cloud | cloudy weather
🌧️ cloud with rain | rain weather
⛄ snowman without snow | snowman winter
❄️ snowflake | snow winter cold
💧 droplet | water drop
🌊 water wave | ocean sea wave
`;

export const FOOD = `
🍏 green apple | apple fruit
🍎 red apple | apple fruit
🍐 pear | fruit
🍊 tangerine | orange fruit
🍋 lemon | fruit
🍌 banana | fruit
🍉 watermelon | fruit
🍇 grapes | fruit
🍓 strawberry | fruit
🍒 cherries | fruit
🍑 peach | fruit
🥭 mango | fruit
🍍 pineapple | fruit
🥥 coconut | fruit
🥝 kiwi fruit | fruit
🍅 tomato | vegetable
🥑 avocado | fruit
🍆 eggplant | aubergine vegetable
🥕 carrot | vegetable
🌽 ear of corn | corn
🌶️ hot pepper | chili spicy
🥦 broccoli | vegetable
🍄 mushroom | fungus
🥐 croissant | bread breakfast
🍞 bread | toast
🧀 cheese wedge | cheese
🥚 egg | breakfast
🍳 cooking | fried egg breakfast
🥞 pancakes | breakfast
🥓 bacon | breakfast
🍔 hamburger | burger
🍟 french fries | fries chips
🍕 pizza | pizza
🌭 hot dog | sausage
🥪 sandwich | lunch
🌮 taco | mexican
🌯 burrito | mexican
🥗 green salad | salad healthy
🍝 spaghetti | pasta
🍜 steaming bowl | noodles ramen
🍣 sushi | japanese fish
🍱 bento box | lunch japanese
🍛 curry rice | curry
🍚 cooked rice | rice
🥟 dumpling | dumpling
🍦 soft ice cream | ice cream dessert
🍩 doughnut | donut dessert
🍪 cookie | biscuit
🎂 birthday cake | birthday cake party
🍰 shortcake | cake dessert
🧁 cupcake | cake
🍫 chocolate bar | chocolate sweet
🍬 candy | sweet
🍿 popcorn | movie
☕ hot beverage | coffee tea
🍵 teacup without handle | tea
🧃 beverage box | juice
🥤 cup with straw | soda drink
🍺 beer mug | beer drink
🍻 clinking beer mugs | cheers beer
🥂 clinking glasses | cheers toast champagne
🍷 wine glass | wine drink
🍸 cocktail glass | cocktail drink
🍾 bottle with popping cork | champagne celebrate
🍽️ fork and knife with plate | dinner meal
`;

export const ACTIVITIES = `
⚽ soccer ball | football sport
🏀 basketball | sport
🏈 american football | sport
⚾ baseball | sport
🎾 tennis | sport
🏐 volleyball | sport
🏉 rugby football | sport
🎱 pool 8 ball | billiards
🏓 ping pong | table tennis
🏸 badminton | sport
🥅 goal net | goal
⛳ flag in hole | golf
🏹 bow and arrow | archery
🎣 fishing pole | fishing
🥊 boxing glove | boxing
🥋 martial arts uniform | karate judo
🎿 skis | ski winter
⛷️ skier | ski
🏂 snowboarder | snowboard | tones
🏋️ person lifting weights | gym weights | tones
🚴 person biking | cycling bike | tones
🏊 person swimming | swim | tones
🏆 trophy | win award
🥇 1st place medal | gold first winner
🥈 2nd place medal | silver second
🥉 3rd place medal | bronze third
🏅 sports medal | medal
🎉 party popper | party celebrate tada congratulations
🎊 confetti ball | party celebrate
🎈 balloon | party birthday
🎁 wrapped gift | present birthday gift
🎄 Christmas tree | christmas
🎃 jack-o-lantern | halloween pumpkin
🎆 fireworks | celebrate new year
🎮 video game | game controller gaming
🎲 game die | dice game
🧩 puzzle piece | puzzle jigsaw
♟️ chess pawn | chess
🎯 bullseye | target dart
🎨 artist palette | art paint
🎭 performing arts | theater drama
🎤 microphone | sing karaoke
🎧 headphone | music listen
🎸 guitar | music rock
🎹 musical keyboard | piano music
🎵 musical note | music
🎶 musical notes | music
🎬 clapper board | movie film
`;

export const TRAVEL = `
🚗 automobile | car
🚕 taxi | cab
🚌 bus | bus
🚑 ambulance | emergency
🚒 fire engine | fire truck
🚓 police car | police
🚲 bicycle | bike
🛵 motor scooter | scooter
🏍️ motorcycle | motorbike
🚂 locomotive | train steam
🚆 train | rail
🚇 metro | subway underground
✈️ airplane | plane flight travel
🛫 airplane departure | flight takeoff
🛬 airplane arrival | flight landing
🚀 rocket | launch space
🛸 flying saucer | ufo
🚁 helicopter | helicopter
⛵ sailboat | boat sail
🚢 ship | boat cruise
⚓ anchor | ship
⛽ fuel pump | gas petrol
🚦 vertical traffic light | traffic
🗺️ world map | map travel
🗽 Statue of Liberty | new york
🗼 Tokyo tower | tokyo
🏰 castle | castle
🏟️ stadium | stadium
🎡 ferris wheel | fair
🎢 roller coaster | fun
🏖️ beach with umbrella | beach holiday vacation
🏝️ desert island | island holiday
⛰️ mountain | mountain
🏔️ snow-capped mountain | mountain
🏕️ camping | camp tent
🏠 house | home
🏡 house with garden | home
🏢 office building | office work
🏥 hospital | hospital
🏫 school | school
⛪ church | church
🌃 night with stars | night city
🌅 sunrise | morning
🌇 sunset | evening
🌌 milky way | space stars
🧳 luggage | travel suitcase
⌛ hourglass done | time
⏰ alarm clock | alarm time wake
`;
